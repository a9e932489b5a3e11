// Reads USDTLowFee response bodies (a JSON array of the raw texts, file given as argv[2])
// and prints, for every "id"/"userId" in them, what plain JSON.parse makes of it and the
// exact digits read with a big-integer parse. Run by tests/test_node_json.py.
import { readFileSync } from "node:fs";

const bodies = JSON.parse(readFileSync(process.argv[2], "utf8"));
const ID_KEYS = new Set(["id", "userId"]);

// JSON.parse with source text (V8 11.4+: Node 21+, Node 20 behind
// --harmony-json-parse-with-source) hands the reviver each number's digits.
const hasSource = JSON.parse("1", (key, value, context) => typeof context?.source === "string");

function exactIds(text) {
  const found = [];
  if (hasSource) {
    JSON.parse(text, (key, value, context) => {
      if (ID_KEYS.has(key) && typeof value === "number") found.push(BigInt(context.source).toString());
      return value;
    });
  } else {
    // Without it: the digits straight from the text (the bodies are compact JSON).
    for (const m of text.matchAll(/"(?:id|userId)":(\d+)/g)) found.push(BigInt(m[1]).toString());
  }
  return found;
}

function naiveIds(text) {
  const found = [];
  JSON.parse(text, (key, value) => {
    if (ID_KEYS.has(key) && typeof value === "number") found.push(String(BigInt(value)));
    return value;
  });
  return found;
}

const out = bodies.map((text) => ({ naive: naiveIds(text), exact: exactIds(text) }));
console.log(JSON.stringify({ parser: hasSource ? "reviver-source" : "digits", node: process.version, out }));
