// Expected token ids from @lenml/tokenizers for the strings of gpt2_expected.json, for a
// tokenizer.json + tokenizer_config.json directory (see tests/fixtures/tokenizers/llama3/README.md).
const path = require('path');
const fs = require('fs');
const { TokenizerLoader } = require(path.resolve(process.argv[2], 'dist/main.js'));
const dir = process.argv[3];
const tok = TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'))),
  tokenizerConfig: JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'))),
});
const strings = JSON.parse(fs.readFileSync(process.argv[4])).map(c => c.text);
console.log(JSON.stringify(strings.map(text => ({ text, ids: tok.encode(text, { add_special_tokens: false }) })), null, 1));
