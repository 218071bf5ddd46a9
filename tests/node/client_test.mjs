// A real client: node-llama-cpp@3.22.1 (installed by scripts/install-peer.sh)
// loads lowbit's Q8_0, Q4_0 and Q4_K_M quantizations of the shipped model
// (whose 64-wide rows make Q4_K_M fall back to 32-blocks) and generates from
// "Once upon a time". With greedy sampling the Q8_0 model's 40-token
// continuation must equal the F32 model's. It also loads lowbit's Q4_K_M (with
// and without an importance matrix) of a synthetic llama model, whose 256-wide
// rows take real K-quants, and generates from it.
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
const run = (args) => execFileSync(cli, args, {stdio: ["ignore", "ignore", "inherit"]});
for (const type of ["Q8_0", "Q4_0", "Q4_K_M"]) {
    files[type] = path.join(workdir, `stories260K-${type}.gguf`);
    run(["quantize", model, files[type], type]);
}
// 4 layers, embd 256, GQA 4, the shipped model's tokenizer; F16
const synth = path.join(workdir, "synth-f16.gguf"), synthImatrix = path.join(workdir, "synth.imatrix.gguf");
run(["synth", "--layers", "4", "--embd", "256", "--heads", "8", "--kv-heads", "2", "--ff", "768",
     "--seed", "5", "--tokenizer-from", model, "--imatrix", synthImatrix, synth]);
files["synthetic F16"] = synth;
files["synthetic Q4_K_M"] = path.join(workdir, "synth-Q4_K_M.gguf");
run(["quantize", synth, files["synthetic Q4_K_M"], "Q4_K_M"]);
files["synthetic Q4_K_M imatrix"] = path.join(workdir, "synth-Q4_K_M-imatrix.gguf");
run(["quantize", "--imatrix", synthImatrix, synth, files["synthetic Q4_K_M imatrix"], "Q4_K_M"]);

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
for (const type of ["Q4_0", "Q4_K_M"]) {
    if (out[type].tokens.length !== 40) fail(`${type} model generated ${out[type].tokens.length} tokens, not 40`);
    if (!/^[\x20-\x7e\s]+$/.test(out[type].text) || !out[type].text.trim())
        fail(`the ${type} continuation is not plain text`);
}
// random weights: any text will do, but the model must run and produce tokens
for (const type of ["synthetic F16", "synthetic Q4_K_M", "synthetic Q4_K_M imatrix"])
    if (out[type].tokens.length === 0) fail(`the ${type} model generated nothing`);
process.exit(failed ? 1 : 0);
