// Real clients of lowbit's conversions of a Hugging Face checkpoint
// (TinyStories-656K, ../shared/data): Hugging Face's own GGUF reader
// (@huggingface/gguf) parses `lowbit convert`'s F32 and Q8_0 files and sees
// the keys, tensors, shapes and types `lowbit info --json` reports; and
// node-llama-cpp loads both and generates from "Once upon a time": its greedy
// continuation of the F32 file is `lowbit generate`'s (both evaluate the same
// float weights), and the Q8_0 file generates a story too.
//
// usage: node converted_test.mjs LOWBIT_CLI CHECKPOINT_DIR WORKDIR
import {execFileSync} from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import {pathToFileURL} from "node:url";

const [cli, checkpoint, workdir] = process.argv.slice(2);
if (!workdir) {
    console.error("usage: node converted_test.mjs LOWBIT_CLI CHECKPOINT_DIR WORKDIR");
    process.exit(2);
}
const peerDir = process.env.LOWBIT_PEER_DIR;
const modules = peerDir && path.resolve(peerDir, "../../../..");
const need = (name) => {
    const dir = path.join(modules, name);
    if (!fs.existsSync(path.join(dir, "package.json"))) {
        console.error(`${name} is not installed beside LOWBIT_PEER_DIR (${peerDir}): run scripts/install-peer.sh`);
        process.exit(1);
    }
    return dir;
};
const {gguf} = await import(pathToFileURL(path.join(need("@huggingface/gguf"), "dist/index.mjs")).href);
const {getLlama, LlamaCompletion} = await import(pathToFileURL(path.join(need("node-llama-cpp"), "dist/index.js")).href);

fs.mkdirSync(workdir, {recursive: true});
const run = (args) => execFileSync(cli, args, {stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 << 20}).toString();
let failed = false;
const fail = (message) => {
    console.error(`FAIL: ${message}`);
    failed = true;
};

const files = {F32: path.join(workdir, "ts656k-f32.gguf"), Q8_0: path.join(workdir, "ts656k-q8_0.gguf")};
for (const [type, file] of Object.entries(files)) {
    run(["convert", checkpoint, file, "--outtype", type.toLowerCase()]);
    const ours = JSON.parse(run(["info", file, "--json"]));
    const theirs = await gguf(file, {allowLocalFile: true});
    const keys = (o) => Object.keys(o).filter((k) => k !== "version" && k !== "tensor_count" && k !== "kv_count").sort();
    const ourKeys = (ours.metadata ?? ours.kvs).map((kv) => kv.key).sort();
    if (JSON.stringify(keys(theirs.metadata)) !== JSON.stringify(ourKeys))
        fail(`${type}: @huggingface/gguf sees keys ${keys(theirs.metadata)}, lowbit ${ourKeys}`);
    if (theirs.metadata["general.architecture"] !== "llama" || theirs.metadata["llama.block_count"] !== 2)
        fail(`${type}: @huggingface/gguf reads architecture ${theirs.metadata["general.architecture"]}`);
    if (theirs.metadata["tokenizer.ggml.tokens"].length !== 2048) fail(`${type}: not 2048 tokens`);
    const ourTensors = ours.tensors.map((t) => `${t.name} ${t.type} ${t.shape.join("x")}`);
    const typeName = (id) => ({0: "F32", 1: "F16", 8: "Q8_0"})[id] ?? `type ${id}`;
    const theirTensors = theirs.tensorInfos.map((t) => `${t.name} ${typeName(t.dtype)} ${t.shape.map(Number).join("x")}`);
    if (JSON.stringify(theirTensors) !== JSON.stringify(ourTensors))
        fail(`${type}: tensors differ:\n  @huggingface/gguf ${theirTensors.join(", ")}\n  lowbit ${ourTensors.join(", ")}`);
    console.log(`${type}: @huggingface/gguf reads ${keys(theirs.metadata).length} keys and ${theirTensors.length} tensors as lowbit does`);
}

const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const prompt = "Once upon a time";
const continuation = {};
for (const [type, file] of Object.entries(files)) {
    const model = await llama.loadModel({modelPath: file});
    const context = await model.createContext({contextSize: 256});
    const completion = new LlamaCompletion({contextSequence: context.getSequence()});
    continuation[type] = await completion.generateCompletion(prompt, {maxTokens: 24, temperature: 0});
    console.log(`node-llama-cpp, ${type}: ${JSON.stringify(prompt + continuation[type])}`);
    await context.dispose();
    await model.dispose();
    if (continuation[type].trim().split(/\s+/).length < 5) fail(`${type}: node-llama-cpp generated only ${JSON.stringify(continuation[type])}`);
}
const ours = JSON.parse(run(["generate", files.F32, "-p", prompt, "-n", "24", "--json"]));
const ourText = ours.text ?? ours.continuation ?? "";
console.log(`lowbit generate, F32: ${JSON.stringify(prompt + ourText)}`);
if (continuation.F32 !== ourText)
    fail(`F32: node-llama-cpp and lowbit part: ${JSON.stringify(continuation.F32)} / ${JSON.stringify(ourText)}`);
process.exit(failed ? 1 : 0);
