// A real client: node-llama-cpp@3.22.1 (installed by scripts/install-peer.sh)
// loads lowbit's Q8_0 and Q4_0 quantizations of the shipped model and
// generates from "Once upon a time". With greedy sampling the Q8_0 model's
// 40-token continuation must equal the F32 model's.
//
// usage: node client_test.mjs LOWBIT_CLI MODEL WORKDIR
import {execFileSync} from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {pathToFileURL} from "node:url";

const [cli, model, workdir] = process.argv.slice(2);
if (!cli || !model || !workdir) {
    console.error("usage: node client_test.mjs LOWBIT_CLI MODEL WORKDIR");
    process.exit(2);
}
const cache = process.env.LOWBIT_PEER_CACHE || path.join(os.homedir(), ".cache/lowbit/peer-3.22.1");
const pkg = path.join(cache, "node_modules/node-llama-cpp");
if (!fs.existsSync(path.join(pkg, "package.json"))) {
    console.error(`node-llama-cpp is not installed in ${cache}: run scripts/install-peer.sh`);
    process.exit(1);
}
const {getLlama, LlamaCompletion} = await import(pathToFileURL(path.join(pkg, "dist/index.js")).href);

fs.mkdirSync(workdir, {recursive: true});
const files = {F32: model};
for (const type of ["Q8_0", "Q4_0"]) {
    files[type] = path.join(workdir, `stories260K-${type}.gguf`);
    execFileSync(cli, ["quantize", model, files[type], type], {stdio: ["ignore", "ignore", "inherit"]});
}

const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const prompt = "Once upon a time";
const out = {};
for (const [type, file] of Object.entries(files)) {
    const m = await llama.loadModel({modelPath: file});
    const ctx = await m.createContext({contextSize: 256, batchSize: 64, threads: 1});
    const completion = new LlamaCompletion({contextSequence: ctx.getSequence()});
    const tokens = [];
    const text = await completion.generateCompletion(prompt, {
        maxTokens: 40, temperature: 0, onToken: (t) => tokens.push(...t)});
    out[type] = {text, tokens};
    console.log(`${type} (${tokens.length} tokens): ${JSON.stringify(text)}`);
    await ctx.dispose();
    await m.dispose();
}
await llama.dispose();

let failed = false;
const fail = (msg) => { console.error(`FAIL: ${msg}`); failed = true; };
if (out.F32.tokens.length !== 40) fail(`F32 model generated ${out.F32.tokens.length} tokens, not 40`);
if (JSON.stringify(out.Q8_0.tokens) !== JSON.stringify(out.F32.tokens))
    fail("the Q8_0 continuation differs from the F32 one");
if (out.Q4_0.tokens.length !== 40) fail(`Q4_0 model generated ${out.Q4_0.tokens.length} tokens, not 40`);
if (!/^[\x20-\x7e\s]+$/.test(out.Q4_0.text) || !out.Q4_0.text.trim())
    fail("the Q4_0 continuation is not plain text");
process.exit(failed ? 1 : 0);
