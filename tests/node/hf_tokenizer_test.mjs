// An independent oracle for lowbit's SentencePiece-style tokenizer: Hugging
// Face's tokenizers.js (@huggingface/tokenizers, installed beside the peer by
// scripts/install-peer.sh) on TinyStories-656K's tokenizer.json, against
// `lowbit tokenize` on the development model, whose GGUF vocabulary is that
// tokenizer.json converted as ../shared/data/PROVENANCE.md describes
// (tokenizer.ggml.model = llama, scores -(token id), no <0xNN> byte tokens
// although the BPE asks for byte fallback). The token ids must be the same on
// the whole of tests/data/tinystories_val.txt, whose quotes, dashes and euro
// signs have no token: each run of them is one unknown token, as Hugging Face
// (fuse_unk) and SentencePiece give it; llama.cpp aborts there.
//
// usage: node hf_tokenizer_test.mjs LOWBIT_CLI TOKENIZER_DIR MODEL TEXT WORKDIR
import {execFileSync} from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import {pathToFileURL} from "node:url";

const [cli, tokenizerDir, model, textFile, workdir] = process.argv.slice(2);
if (!workdir) {
    console.error("usage: node hf_tokenizer_test.mjs LOWBIT_CLI TOKENIZER_DIR MODEL TEXT WORKDIR");
    process.exit(2);
}
const peerDir = process.env.LOWBIT_PEER_DIR;
const pkg = peerDir && path.resolve(peerDir, "../../../../@huggingface/tokenizers");
if (!pkg || !fs.existsSync(path.join(pkg, "package.json"))) {
    console.error(`@huggingface/tokenizers is not installed beside LOWBIT_PEER_DIR (${peerDir}): run scripts/install-peer.sh`);
    process.exit(1);
}
const {Tokenizer} = await import(pathToFileURL(path.join(pkg, "dist/tokenizers.mjs")).href);
const read = (name) => JSON.parse(fs.readFileSync(path.join(tokenizerDir, name), "utf8"));
const hf = new Tokenizer(read("tokenizer.json"), read("tokenizer_config.json"));
fs.mkdirSync(workdir, {recursive: true});

let failed = false;
function compare(label, file) {
    const text = fs.readFileSync(file, "utf8");
    const theirs = hf.encode(text, {add_special_tokens: false}).ids;
    const ours = JSON.parse(execFileSync(cli, ["tokenize", model, "-f", file, "--ids", "--no-bos"],
                                         {stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 << 20}));
    let same = 0;
    while (same < ours.length && same < theirs.length && ours[same] === theirs[same]) ++same;
    const unk = (ids) => ids.filter((t) => t === 0).length;
    console.log(`${label}: lowbit ${ours.length} tokens (${unk(ours)} unknown), Hugging Face ${theirs.length} ` +
                `(${unk(theirs)} unknown), the same for the first ${same}`);
    if (same !== ours.length || ours.length !== theirs.length) {
        console.error(`FAIL: ${label}: they part at token ${same}: lowbit ${JSON.stringify(ours.slice(same, same + 8))}, ` +
                      `Hugging Face ${JSON.stringify(theirs.slice(same, same + 8))}`);
        failed = true;
    }
    return unk(ours);
}

const unknown = compare("tinystories_val.txt", textFile);
if (unknown === 0) {
    console.error("FAIL: the text has no character without a token: the test lost its point");
    failed = true;
}
const cases = {
    "runs of unknown characters": "\u201cHi\u201d \u20ac\u20ac\u20ac 5\u20ac and \u2014\u2014 the end\u2026\n",
    "spaces and newlines": "  Two  spaces,\ttab\n\nand a line.  \n",
    "digits and punctuation": "In 1999, 3.14 (pi) was 42%; x=y+1!",
};
for (const [label, text] of Object.entries(cases)) {
    const file = path.join(workdir, label.replace(/ /g, "_") + ".txt");
    fs.writeFileSync(file, text);
    compare(label, file);
}
process.exit(failed ? 1 : 0);
