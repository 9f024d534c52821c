// Expected chat-template renderings: each tokenizer_config.json's own Jinja chat template run
// by @huggingface/jinja (the template engine of transformers.js) with add_generation_prompt,
// then tokenized by @lenml/tokenizers (a port of transformers.js tokenizers). For each
// tokenizer directory given, the text and token ids of a few conversations. Used by
// tst_interp (tests/fixtures/tokenizers/chat_expected.json):
//   npm pack @lenml/tokenizers@3.7.2 @huggingface/jinja@0.5.11   # and unpack both
//   node tests/generators/make_chat_fixtures.js lenml/package jinja/package NAME=DIR ...
const path = require('path');
const fs = require('fs');
const zlib = require('zlib');
const { TokenizerLoader } = require(path.resolve(process.argv[2], 'dist/main.js'));
const { Template } = require(path.resolve(process.argv[3], 'dist/index.cjs'));

const conversations = [
  [{ role: 'user', content: 'Hello' }],
  [{ role: 'system', content: 'You label features.' },
   { role: 'user', content: 'Example 1: the <<cat>> sat' },
   { role: 'assistant', content: '[EXPLANATION]: the word cat' },
   { role: 'user', content: '  Text 1: a dog\nText 2: a cat  ' }],
];
const out = {};
for (const arg of process.argv.slice(4)) {
  const [name, dir] = arg.split('=');
  let json = path.join(dir, 'tokenizer.json');
  const text = fs.existsSync(json) ? fs.readFileSync(json)
    : zlib.gunzipSync(fs.readFileSync(json + '.gz'));
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json')));
  const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON: JSON.parse(text), tokenizerConfig: config });
  const template = new Template(config.chat_template);
  const token = t => (typeof t === 'string' ? t : t && t.content) || '';
  out[name] = conversations.map(messages => {
    const rendered = template.render({ messages, add_generation_prompt: true,
      bos_token: token(config.bos_token), eos_token: token(config.eos_token) });
    return { messages, text: rendered, ids: tok.encode(rendered, { add_special_tokens: false }) };
  });
}
console.log(JSON.stringify(out, null, 1));
