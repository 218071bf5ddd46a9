// The CLI's normal use on the shipped model: info in text and JSON,
// quantize with its summary, warnings, default output name and thread
// argument, and its usage errors.
#include "run_cli.hpp"
#include "test_data.hpp"

#include <cstdlib>
#include <gtest/gtest.h>
#include <string>

namespace {

using clitest::run_cli;

bool contains(const std::string &s, const std::string &part) {
    return s.find(part) != std::string::npos;
}

TEST(InfoCommand, TextShowsMetadataAndTensors) {
    const clitest::Outcome o = run_cli({"info", testdata::stories_path()});
    ASSERT_EQ(o.exit_code, 0) << o.describe();
    EXPECT_TRUE(contains(o.out, "GGUF version 3")) << o.out;
    EXPECT_TRUE(contains(o.out, "19 keys"));
    EXPECT_TRUE(contains(o.out, "general.architecture"));
    EXPECT_TRUE(contains(o.out, "\"llama\""));
    EXPECT_TRUE(contains(o.out, "(512 items)"));
    EXPECT_TRUE(contains(o.out, "tensors:   48, 292800 weights"));
    EXPECT_TRUE(contains(o.out, "blk.4.ffn_down.weight"));
    EXPECT_TRUE(contains(o.out, "172 x 64"));
}

// Parses the JSON with Python's json module, an independent parser.
TEST(InfoCommand, JsonIsValidAndComplete) {
    testdata::TempDir dir;
    const clitest::Outcome o = run_cli({"info", testdata::stories_path(), "--json"});
    ASSERT_EQ(o.exit_code, 0) << o.describe();
    testdata::write_file(dir.file("info.json"), std::vector<uint8_t>(o.out.begin(), o.out.end()));
    const std::string check =
        "python3 -c \"import json,sys; d=json.load(open(sys.argv[1])); "
        "assert d['gguf_version']==3; assert len(d['metadata'])==19; assert len(d['tensors'])==48; "
        "kv={m['key']:m for m in d['metadata']}; "
        "assert kv['tokenizer.ggml.tokens']['count']==512 and "
        "len(kv['tokenizer.ggml.tokens']['value'])==512; "
        "assert kv['tokenizer.ggml.tokens']['value'][1]=='<s>'; assert kv['llama.block_count']['value']==5; "
        "t={x['name']:x for x in d['tensors']}; assert t['blk.4.ffn_down.weight']['shape']==[172,64]; "
        "assert t['token_embd.weight']['type']=='F32'\" " +
        dir.file("info.json");
    EXPECT_EQ(std::system(check.c_str()), 0) << o.out.substr(0, 400);
}

// The CPU's kernel sets: the JSON through Python's parser, checked against
// Linux's /proc/cpuinfo flags (an independent view of the CPU) and the text;
// LOWBIT_KERNELS forces a set that runs here, and a name that is none gets a
// warning on every command.
TEST(InfoCommand, CpuShowsTheFeaturesAndTheKernelSetInUse) {
    testdata::TempDir dir;
    unsetenv("LOWBIT_KERNELS");
    const clitest::Outcome o = run_cli({"info", "--cpu", "--json"});
    ASSERT_EQ(o.exit_code, 0) << o.describe();
    testdata::write_file(dir.file("cpu.json"), std::vector<uint8_t>(o.out.begin(), o.out.end()));
    const std::string check =
        "python3 -c \"import json,sys,platform; d=json.load(open(sys.argv[1])); "
        "runs=[k['name'] for k in d['kernel_sets'] if k['runs_here']]; "
        "assert runs[:2]==['scalar','generic'], runs; assert d['active']==runs[-1], d; "
        "assert d['forced'] is None and not d['forced_used']; "
        "flags=[l for l in open('/proc/cpuinfo') if l.startswith('flags')][0].split(':')[1].split(); "
        "names={'avx512vnni':'avx512_vnni','avx512bf16':'avx512_bf16'}; "
        "x86=platform.machine()=='x86_64'; "
        "assert not x86 or all(names.get(f,f) in flags for f in d['cpu_features']), d['cpu_features']; "
        "want=['avx512f','avx512bw','avx512vl','avx512dq','avx512_vnni']; "
        "assert not x86 or ('avx512' in runs) == all(f in flags for f in want+['avx2','fma','f16c'])\" " +
        dir.file("cpu.json");
    ASSERT_EQ(std::system(check.c_str()), 0) << o.out;

    const clitest::Outcome text = run_cli({"info", "--cpu"});
    EXPECT_TRUE(contains(text.out, "using:     ")) << text.out;
    EXPECT_TRUE(contains(text.out, "(the fastest this CPU runs")) << text.out;
    setenv("LOWBIT_KERNELS", "generic", 1);
    const clitest::Outcome forced = run_cli({"info", "--cpu"});
    EXPECT_TRUE(contains(forced.out, "using:     generic (LOWBIT_KERNELS)")) << forced.out;
    EXPECT_EQ(forced.err, "");
    setenv("LOWBIT_KERNELS", "AVX2", 1); // names are lower case
    const clitest::Outcome typo = run_cli({"info", testdata::stories_path()});
    EXPECT_EQ(typo.exit_code, 0) << typo.describe();
    EXPECT_TRUE(contains(typo.err, "warning: LOWBIT_KERNELS=AVX2 is not a kernel set this CPU runs"))
        << typo.err;
    unsetenv("LOWBIT_KERNELS");
    EXPECT_NE(run_cli({"info", "--cpu", testdata::stories_path()}).exit_code, 0);
}

TEST(QuantizeCommand, PrintsSummaryAndWarnings) {
    testdata::TempDir dir;
    const clitest::Outcome o = run_cli({"quantize", testdata::stories_path(), dir.file("q4.gguf"), "q4_0"});
    ASSERT_EQ(o.exit_code, 0) << o.describe();
    EXPECT_TRUE(contains(o.out, "(Q4_0)")) << o.out;
    EXPECT_TRUE(contains(o.out, "48 (37 converted, 6 fell back to another type)")) << o.out;
    EXPECT_TRUE(contains(o.out, "7.18 bits per weight")) << o.out;
    EXPECT_TRUE(contains(o.err, "warning: blk.0.ffn_down.weight: row width 172")) << o.err;
    EXPECT_TRUE(contains(o.err, "falling back to F16")) << o.err;
    const clitest::Outcome info = run_cli({"info", dir.file("q4.gguf")});
    EXPECT_TRUE(contains(info.out, "general.file_type")) << info.out;
}

TEST(QuantizeCommand, DefaultOutputNameAndThreadArgument) {
    testdata::TempDir dir;
    const std::string in = dir.file("model.gguf");
    testdata::write_file(in, testdata::read_file(testdata::stories_path()));
    // IN TYPE NTHREADS: the output goes next to the input
    const clitest::Outcome o = run_cli({"quantize", in, "8", "2"});
    ASSERT_EQ(o.exit_code, 0) << o.describe();
    EXPECT_TRUE(testdata::file_exists(dir.file("ggml-model-Q5_0.gguf")));
    // the file type number and the --threads option give the same file
    const clitest::Outcome o2 = run_cli({"quantize", "--threads", "1", in, dir.file("b.gguf"), "Q5_0"});
    ASSERT_EQ(o2.exit_code, 0) << o2.describe();
    EXPECT_EQ(testdata::read_file(dir.file("b.gguf")), testdata::read_file(dir.file("ggml-model-Q5_0.gguf")));
}

TEST(QuantizeCommand, UsageErrors) {
    const clitest::Outcome unknown = run_cli({"quantize", testdata::stories_path(), "/tmp/x.gguf", "Q9_X"});
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_TRUE(contains(unknown.err, "unknown quantization type 'Q9_X'")) << unknown.err;
    EXPECT_TRUE(contains(unknown.err, "Q4_0")) << unknown.err; // lists what is supported
    const clitest::Outcome option = run_cli({"quantize", "--frobnicate", testdata::stories_path(), "Q8_0"});
    EXPECT_EQ(option.exit_code, 1);
    EXPECT_TRUE(contains(option.err, "unknown option '--frobnicate'")) << option.err;
    const clitest::Outcome missing = run_cli({"quantize", testdata::stories_path()});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_TRUE(contains(missing.err, "IN [OUT] TYPE")) << missing.err;
    const clitest::Outcome command = run_cli({"frobnicate"});
    EXPECT_EQ(command.exit_code, 1);
    EXPECT_TRUE(contains(command.err, "unknown command 'frobnicate'")) << command.err;
    const clitest::Outcome version = run_cli({"--version"});
    EXPECT_EQ(version.exit_code, 0);
    EXPECT_TRUE(contains(version.out, "lowbit 0.1.0")) << version.out;
}

TEST(QuantizeCommand, OutputFolderIsRefusedBeforeAnyWork) {
    testdata::TempDir dir;
    const clitest::Outcome o = run_cli({"quantize", testdata::stories_path(), dir.path(), "Q8_0"});
    EXPECT_EQ(o.exit_code, 1);
    EXPECT_TRUE(contains(o.err, "is a folder")) << o.err;
    EXPECT_TRUE(dir.entries().empty());
}

} // namespace
