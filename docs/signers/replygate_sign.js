// replygate_sign.js - sign replygate reply addresses and notification
// Message-IDs in JavaScript for Node.js (SPEC sections 2 and 3; known answers
// in docs/test-vectors.json). No dependencies; copy it into your application.
//
//   const rg = require("./replygate_sign.js");
//   const keys = rg.loadSecrets("/etc/replygate/secrets");
//   const replyTo = rg.sign(keys[0], "i", "1", "5", "reply.example.com");
//   const messageId = rg.messageId(keys[0], "i", "1", "5", "reply.example.com");
//
// Target and user go up to 2^64-1: pass strings or BigInts, never a Number
// above Number.MAX_SAFE_INTEGER (it has already been rounded).
//
// Command line: node replygate_sign.js SECRETS_FILE DOMAIN KIND TARGET USER [SUFFIX]
// prints the address, or the Message-ID when SUFFIX is given ("-": a fresh one).
// With "--batch" instead of KIND TARGET USER it reads such lines (tab-separated)
// from standard input and prints one line for each: the answer or "error: why".
"use strict";
const crypto = require("crypto");
const fs = require("fs");

const MAX_ID = 2n ** 64n - 1n;

// loadSecrets - the keys (Buffers) of a secrets file: one a line, a CR before
// the LF dropped, blank lines and lines starting with '#' skipped, each >= 32 bytes.
function loadSecrets(path) {
  const data = fs.readFileSync(path);
  const keys = [];
  let start = 0;
  let lineNo = 0;
  while (start <= data.length) {
    let end = data.indexOf(0x0a, start);
    if (end < 0) end = data.length;
    let line = data.subarray(start, end);
    lineNo++;
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    if (line.length > 0 && line[0] !== 0x23) {
      if (line.length < 32) throw new Error(`${path}:${lineNo}: a secret needs at least 32 bytes`);
      keys.push(Buffer.from(line));
    }
    start = end + 1;
  }
  if (keys.length === 0) throw new Error(`${path} holds no secret`);
  return keys;
}

function number(value, what, lowest) {
  if (typeof value === "number" && !Number.isSafeInteger(value))
    throw new Error(`${what} ${value} is not exact in a Number: pass a string or a BigInt`);
  const text = String(value);
  if (!/^(0|[1-9][0-9]{0,19})$/.test(text) || BigInt(text) < lowest || BigInt(text) > MAX_ID)
    throw new Error(`${what} must be a decimal number from ${lowest} to 2^64-1: ${JSON.stringify(text)}`);
  return text;
}

// sign - the reply address for kind, target and user, signed with key.
function sign(key, kind, target, user, domain, prefix = "reply", separator = "+") {
  if (!/^[a-z]{1,16}$/.test(kind)) throw new Error(`kind must be 1 to 16 of a-z: ${JSON.stringify(kind)}`);
  const t = number(target, "target", 1n);
  const u = number(user, "user", 0n);
  const mac = crypto.createHmac("sha256", key).update(`${kind}-${t}-${u}`).digest("hex").slice(0, 40);
  return `${prefix}${separator}${kind}-${t}-${mac}-${u}@${domain}`;
}

// messageId - a unique Message-ID (with its angle brackets) that names the same key.
function messageId(key, kind, target, user, domain, suffix = null, prefix = "reply", separator = "+") {
  if (suffix === null) {
    const now = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
    suffix = `${now}.${crypto.randomBytes(8).toString("hex")}`;
  }
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(suffix))
    throw new Error(`the suffix must be 1 to 64 of A-Z a-z 0-9 . _ -: ${JSON.stringify(suffix)}`);
  const address = sign(key, kind, target, user, domain, prefix, separator);
  const at = address.lastIndexOf("@");
  return `<${address.slice(0, at)}.${suffix}${address.slice(at)}>`;
}

module.exports = { loadSecrets, sign, messageId };

// answer - one command line's answer: an address, or a Message-ID with a suffix.
function answer(key, domain, args) {
  if (args.length === 4) return messageId(key, args[0], args[1], args[2], domain, args[3] === "-" ? null : args[3]);
  if (args.length === 3) return sign(key, args[0], args[1], args[2], domain);
  throw new Error("want KIND TARGET USER [SUFFIX]");
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const batch = args.length === 3 && args[2] === "--batch";
  if (!batch && args.length !== 5 && args.length !== 6) {
    console.error("usage: node replygate_sign.js SECRETS_FILE DOMAIN KIND TARGET USER [SUFFIX] | --batch");
    process.exit(64);
  }
  let key;
  try {
    key = loadSecrets(args[0])[0];
    if (!batch) {
      console.log(answer(key, args[1], args.slice(2)));
      process.exit(0);
    }
  } catch (e) {
    console.error(`replygate_sign.js: ${e.message}`);
    process.exit(65);
  }
  const lines = fs.readFileSync(0, "utf8").split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const out = lines.map((line) => {
    try {
      return answer(key, args[1], line.split("\t"));
    } catch (e) {
      return `error: ${e.message}`;
    }
  });
  process.stdout.write(out.map((l) => l + "\n").join(""));
}
