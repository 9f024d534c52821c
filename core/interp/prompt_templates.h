#pragma once
// The prompts of the explainer and the scorers, as one versioned JSON document the user can
// override (`explain --template FILE`; `explain --write-template FILE` writes the default to
// start from; docs/autointerp.md lists the fields and placeholders). The version and a hash of
// the whole document key every cached answer, so an edited template never reuses old ones.

#include "core/interp/chat_backend.h"

#include <map>
#include <string>
#include <vector>

namespace fscope::core::interp {

struct PromptTemplate {
    struct Shot {
        std::string user, assistant;
    };
    std::string system;
    std::vector<Shot> fewShot;
    std::string user; // with {placeholders}
};

struct PromptTemplates {
    std::string version;
    std::string hash; // sha256 of the canonical JSON document
    PromptTemplate explainer, detection, fuzzing, simulation, intervention;
};

// The built-in templates (JSON text).
const std::string &defaultTemplatesJson();
Result<PromptTemplates> parseTemplates(const std::string &jsonText, const std::string &fileName);
// `path` empty: the built-in templates.
Result<PromptTemplates> loadTemplates(const std::string &path);

// Replaces each {name} of `text` with its value; unknown names stay as they are.
std::string fillTemplate(const std::string &text, const std::map<std::string, std::string> &vars);
// System message, few-shot pairs, then the filled user message.
std::vector<ChatMessage> renderPrompt(
    const PromptTemplate &prompt, const std::map<std::string, std::string> &vars);

} // namespace fscope::core::interp
