#include "core/interp/prompt_templates.h"

#include "core/store/fingerprint.h"
#include "core/util/json_file.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace fscope::core::interp {

using nlohmann::json;

const std::string &defaultTemplatesJson()
{
    // The structure follows delphi's DefaultExplainer and classifier scorers (a system
    // message, few-shot pairs, then the task); the wording is ours. Placeholders:
    //   explainer:    {examples} {activations} {logits}
    //   detection, fuzzing: {explanation} {examples} {count}
    //   simulation:   {explanation} {tokens} {count}
    //   intervention: {explanation} {prompt} {first} {second}
    static const std::string text = R"json({
  "version": "featurescope-interp-1",
  "explainer": {
    "system": "You study the internal features of a language model. Each feature fires on some tokens of a text. You are shown texts where the feature fires, with the tokens it fires on most strongly written <<like this>>. Find what these texts and marked tokens have in common, and describe it in one short phrase: the tokens, words or concepts that make the feature fire, and their context when it matters. Do not list the examples and do not mention the markers. End your reply with a line that begins with [EXPLANATION]: followed by your phrase.",
    "few_shot": [
      {
        "user": "Example 1: the sailors pulled the <<boat>> onto the sand\nExample 2: a small fishing <<boat>> left the harbour\nExample 3: we rowed the <<canoe>> across the lake\n\nTokens the feature promotes next: ' hull', ' oars', ' sail'",
        "assistant": "All marked tokens name small watercraft, regardless of context.\n[EXPLANATION]: nouns for boats and small watercraft"
      }
    ],
    "user": "{examples}{activations}{logits}"
  },
  "detection": {
    "system": "You check explanations of a language model's features. You are given an explanation of what makes a feature fire and {count} numbered texts. For each text, decide whether the feature as explained would fire somewhere in it (1) or not (0). Reply with only a list of {count} numbers, 0 or 1, in the order of the texts, for example [1, 0, 0, 1, 0].",
    "few_shot": [
      {
        "user": "Explanation: nouns for boats and small watercraft\n\nText 1: the fishing boat left at dawn\nText 2: she sold her old car last year\nText 3: they paddled the kayak home\nText 4: the price of bread went up\nText 5: a rowing club on the river",
        "assistant": "[1, 0, 1, 0, 0]"
      }
    ],
    "user": "Explanation: {explanation}\n\n{examples}"
  },
  "fuzzing": {
    "system": "You check explanations of a language model's features. You are given an explanation of what makes a feature fire and {count} numbered texts in which some tokens are written <<like this>>. For each text, decide whether the marked tokens are exactly the kind of tokens the explanation says the feature fires on (1) or not (0). Reply with only a list of {count} numbers, 0 or 1, in the order of the texts, for example [1, 0, 0, 1, 0].",
    "few_shot": [
      {
        "user": "Explanation: nouns for boats and small watercraft\n\nText 1: the fishing <<boat>> left at dawn\nText 2: she sold <<her>> old car last year\nText 3: they paddled the <<kayak>> home\nText 4: the price of bread <<went>> up\nText 5: a rowing club <<on>> the river",
        "assistant": "[1, 0, 1, 0, 0]"
      }
    ],
    "user": "Explanation: {explanation}\n\n{examples}"
  },
  "simulation": {
    "system": "You predict how strongly a language model's feature fires on each token of a text, given an explanation of the feature. Levels go from 0 (does not fire) to 10 (fires as strongly as it ever does). You are given {count} numbered tokens, one per line. Reply with exactly {count} lines, one per token in the same order, each holding only the level as a number from 0 to 10.",
    "few_shot": [],
    "user": "Explanation: {explanation}\n\nTokens:\n{tokens}"
  },
  "intervention": {
    "system": "You check explanations of a language model's features. The model continued the same prompt twice: once normally and once with one feature strengthened. Given the explanation of that feature, decide which continuation was written with the feature strengthened. Reply with only the letter A or B.",
    "few_shot": [],
    "user": "Explanation: {explanation}\n\nPrompt: {prompt}\n\nContinuation A: {first}\n\nContinuation B: {second}"
  }
})json";
    return text;
}

namespace {

Result<PromptTemplate> parsePrompt(
    const json &doc, const std::string &name, const std::string &fileName)
{
    if (!doc.contains(name) || !doc[name].is_object())
        return fileError(fileName, "the templates have no \"" + name + "\" object");
    const json &p = doc[name];
    PromptTemplate out;
    if (!p.contains("system") || !p["system"].is_string() || !p.contains("user")
        || !p["user"].is_string())
        return fileError(fileName, "\"" + name + "\" needs string fields \"system\" and \"user\"");
    out.system = p["system"].get<std::string>();
    out.user = p["user"].get<std::string>();
    if (p.contains("few_shot")) {
        if (!p["few_shot"].is_array())
            return fileError(fileName, "\"" + name + ".few_shot\" must be a list");
        for (const json &s : p["few_shot"]) {
            if (!s.is_object() || !s.contains("user") || !s["user"].is_string()
                || !s.contains("assistant") || !s["assistant"].is_string())
                return fileError(fileName,
                    "each \"" + name
                        + ".few_shot\" entry needs string fields \"user\" and \"assistant\"");
            out.fewShot.push_back(
                { s["user"].get<std::string>(), s["assistant"].get<std::string>() });
        }
    }
    return out;
}

} // namespace

Result<PromptTemplates> parseTemplates(const std::string &jsonText, const std::string &fileName)
{
    json doc;
    try {
        doc = json::parse(jsonText);
    } catch (const json::exception &e) {
        return fileError(fileName, std::string("not valid JSON: ") + e.what());
    }
    if (!doc.is_object() || !doc.contains("version") || !doc["version"].is_string()
        || doc["version"].get<std::string>().empty())
        return fileError(fileName, "the templates need a non-empty string \"version\"");
    PromptTemplates t;
    t.version = doc["version"].get<std::string>();
    FS_TRY(t.hash, store::fingerprintJson(jsonText, fileName));
    FS_TRY(t.explainer, parsePrompt(doc, "explainer", fileName));
    FS_TRY(t.detection, parsePrompt(doc, "detection", fileName));
    FS_TRY(t.fuzzing, parsePrompt(doc, "fuzzing", fileName));
    FS_TRY(t.simulation, parsePrompt(doc, "simulation", fileName));
    FS_TRY(t.intervention, parsePrompt(doc, "intervention", fileName));
    return t;
}

Result<PromptTemplates> loadTemplates(const std::string &path)
{
    if (path.empty())
        return parseTemplates(defaultTemplatesJson(), "built-in templates");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return fileError(path, "cannot open the template file");
    std::ostringstream text;
    text << in.rdbuf();
    return parseTemplates(text.str(), path);
}

std::string fillTemplate(const std::string &text, const std::map<std::string, std::string> &vars)
{
    std::string out;
    size_t at = 0;
    while (at < text.size()) {
        const size_t open = text.find('{', at);
        if (open == std::string::npos) {
            out += text.substr(at);
            break;
        }
        const size_t close = text.find('}', open);
        if (close == std::string::npos) {
            out += text.substr(at);
            break;
        }
        out += text.substr(at, open - at);
        const auto it = vars.find(text.substr(open + 1, close - open - 1));
        if (it != vars.end()) {
            out += it->second;
            at = close + 1;
        } else {
            out += '{';
            at = open + 1;
        }
    }
    return out;
}

std::vector<ChatMessage> renderPrompt(
    const PromptTemplate &prompt, const std::map<std::string, std::string> &vars)
{
    std::vector<ChatMessage> messages;
    messages.push_back({ "system", fillTemplate(prompt.system, vars) });
    for (const auto &shot : prompt.fewShot) {
        messages.push_back({ "user", shot.user });
        messages.push_back({ "assistant", shot.assistant });
    }
    messages.push_back({ "user", fillTemplate(prompt.user, vars) });
    return messages;
}

} // namespace fscope::core::interp
