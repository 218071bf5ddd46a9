// lowbit tokenize, perplexity and generate on the shipped model, and models a
// session cannot run (unsupported architecture, a tensor missing or of the
// wrong shape, token ids outside the embedding, a broken vocabulary): each a
// one-line error naming the file and what is wrong, never a crash.
#include "gguf_builder.hpp"
#include "llama_peer.hpp"
#include "run_cli.hpp"
#include "test_data.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using clitest::Outcome;
using clitest::run_cli;

bool contains(const std::string &s, const std::string &part) {
    return s.find(part) != std::string::npos;
}

std::string validation_path() {
    return testdata::source_path("tests/data/tinystories_val.txt");
}

std::string write_prefix(const testdata::TempDir &dir, size_t n) {
    std::ifstream f(validation_path(), std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    const std::string text = s.str().substr(0, n);
    const std::string path = dir.file("text.txt");
    testdata::write_file(path, std::vector<uint8_t>(text.begin(), text.end()));
    return path;
}

::testing::AssertionResult failed_naming(const Outcome &r, const std::vector<std::string> &fragments) {
    if (r.timed_out || r.signaled || r.exit_code != 1)
        return ::testing::AssertionFailure() << "not a clean failure: " << r.describe();
    if (r.err.find("lowbit: error:") == std::string::npos || r.err.back() != '\n')
        return ::testing::AssertionFailure() << "no error line: " << r.describe();
    const std::string line = r.err.substr(r.err.rfind("lowbit: error:"));
    for (const std::string &f : fragments)
        if (!contains(line, f))
            return ::testing::AssertionFailure() << "does not mention '" << f << "': " << line;
    return ::testing::AssertionSuccess();
}

// PROVENANCE.md: stories260K's greedy continuation of "Once upon a time" in llama.cpp.
TEST(GenerateCommand, Stories260KContinuesAsLlamaCpp) {
    const Outcome r =
        run_cli({"generate", testdata::stories_path(), "-p", "Once upon a time", "-n", "40"}, 60);
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(
        r.out,
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One "
        "day, she saw a big, red ball.\n");
}

// --json: the continuation's token ids and text; llama.cpp's own pieces of
// those ids spell that text.
TEST(GenerateCommand, JsonGivesTheTokenIdsAndText) {
    const testdata::TempDir dir;
    const Outcome r =
        run_cli({"generate", testdata::stories_path(), "-p", "Once upon a time", "-n", "40", "--json"}, 60);
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    testdata::write_file(dir.file("g.json"), std::vector<uint8_t>(r.out.begin(), r.out.end()));
    const std::string ids = dir.file("ids.txt");
    const std::string check =
        "python3 -c \"import json,sys; d=json.load(open(sys.argv[1])); "
        "assert d['prompt']=='Once upon a time' and len(d['tokens'])==40; "
        "open(sys.argv[2],'w').write(' '.join(map(str,d['tokens']))+'\\n'+d['text'])\" " +
        dir.file("g.json") + " " + ids;
    ASSERT_EQ(std::system(check.c_str()), 0) << r.out;
    std::ifstream f(ids);
    std::string line, text;
    std::getline(f, line);
    std::getline(f, text);
    EXPECT_EQ(text,
              ", there was a little girl named Lily. She loved to play outside in the park. One day, she "
              "saw a big, red ball.");
    const peer::LlamaModel llama(testdata::stories_path(), true);
    std::istringstream tokens(line);
    std::string spelled;
    for (int32_t t; tokens >> t;) spelled += llama.piece(t, false);
    EXPECT_EQ(spelled, text);
}

TEST(GenerateCommand, SamplingIsSeeded) {
    auto run = [](const char *seed) {
        return run_cli({"generate", testdata::stories_path(), "-p", "Lily", "-n", "20", "--temp", "0.9",
                        "--seed", seed});
    };
    const Outcome a = run("7"), b = run("7");
    ASSERT_EQ(a.exit_code, 0) << a.describe();
    EXPECT_EQ(a.out, b.out);
    EXPECT_TRUE(failed_naming(run_cli({"generate", testdata::stories_path(), "-p", "x", "--top-p", "2"}),
                              {"--top-p"}));
    EXPECT_TRUE(failed_naming(run_cli({"generate", testdata::stories_path()}), {"-p PROMPT"}));
    EXPECT_TRUE(
        failed_naming(run_cli({"generate", testdata::stories_path(), "-p", "x", "-n", "9999"}), {"context"}));
}

// PROVENANCE.md: F32 perplexity 3.7783 on the first 20,000 characters at ctx 256.
TEST(PerplexityCommand, KnownFigureInTextAndJson) {
    testdata::TempDir dir;
    const std::string text = write_prefix(dir, 20000);
    const Outcome r =
        run_cli({"perplexity", testdata::stories_path(), "-f", text, "--ctx", "256", "--threads", "2"}, 60);
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_TRUE(contains(r.out, "9603 tokens, 37 chunks of 256, 4699 predictions scored")) << r.out;
    double ppl = 0, err = 0;
    ASSERT_EQ(std::sscanf(r.out.substr(r.out.find("PPL = ")).c_str(), "PPL = %lf +/- %lf", &ppl, &err), 2)
        << r.out;
    EXPECT_NEAR(ppl, 3.7783, 3.7783e-3);
    EXPECT_GT(err, 0.0);
    const Outcome j = run_cli(
        {"perplexity", testdata::stories_path(), "-f", text, "--ctx", "256", "--chunks", "4", "--json"}, 60);
    ASSERT_EQ(j.exit_code, 0) << j.describe();
    testdata::write_file(dir.file("p.json"), std::vector<uint8_t>(j.out.begin(), j.out.end()));
    const std::string check = "python3 -c \"import json,sys; d=json.load(open(sys.argv[1])); "
                              "assert d['chunks']==4 and d['scored']==4*127 and d['ctx']==256; "
                              "assert 2 < d['perplexity'] < 10 and d['uncertainty'] > 0\" " +
                              dir.file("p.json");
    EXPECT_EQ(std::system(check.c_str()), 0) << j.out;
}

TEST(PerplexityCommand, BadInput) {
    testdata::TempDir dir;
    const std::string model = testdata::stories_path();
    testdata::write_file(dir.file("empty.txt"), {});
    EXPECT_TRUE(failed_naming(run_cli({"perplexity", model, "-f", dir.file("empty.txt")}), {"tokens long"}));
    const std::string short_text = write_prefix(dir, 700);
    EXPECT_TRUE(failed_naming(run_cli({"perplexity", model, "-f", short_text, "--ctx", "256"}),
                              {"tokens long", "512"}));
    EXPECT_TRUE(failed_naming(run_cli({"perplexity", model, "-f", short_text, "--ctx", "100000"}),
                              {"larger than the model"}));
    EXPECT_TRUE(
        failed_naming(run_cli({"perplexity", model, "-f", dir.file("missing.txt")}), {"missing.txt"}));
    EXPECT_TRUE(failed_naming(run_cli({"perplexity", model, "-f", short_text, "--ctx", "x"}), {"--ctx"}));
    EXPECT_TRUE(failed_naming(run_cli({"perplexity", model}), {"-f TEXT"}));
}

TEST(TokenizeCommand, IdsPiecesAndJson) {
    const std::string model = testdata::stories_path();
    const Outcome ids = run_cli({"tokenize", model, "Hello world", "--ids"});
    ASSERT_EQ(ids.exit_code, 0) << ids.describe();
    EXPECT_EQ(ids.out, "[1, 346, 306, 414, 263, 304, 341]\n");
    const Outcome no_bos = run_cli({"tokenize", model, "Hello world", "--ids", "--no-bos"});
    EXPECT_EQ(no_bos.out, "[346, 306, 414, 263, 304, 341]\n");
    const Outcome lines = run_cli({"tokenize", model, "Hello world"});
    EXPECT_TRUE(contains(lines.out, "   346 \" He\"")) << lines.out;
    const Outcome special = run_cli({"tokenize", model, "<s>x", "--ids", "--no-bos", "--parse-special"});
    EXPECT_EQ(special.out.rfind("[1, ", 0), 0u) << special.out;
    EXPECT_TRUE(failed_naming(run_cli({"tokenize", model}), {"a model and a text"}));
}

// --- models a session cannot run -----------------------------------------------

struct RunCase {
    std::string name;
    std::function<void(gguf_builder::Model &)> edit;
    std::vector<std::string> fragments;
};

void PrintTo(const RunCase &c, std::ostream *os) {
    *os << c.name;
}

// stories260K as the test's own builder writes it, edited.
gguf_builder::Model stories_as_builder() {
    lb_model *m = nullptr;
    if (lb_model_open(&m, testdata::stories_path().c_str()) != LB_OK)
        throw std::runtime_error(lb_last_error());
    // copy the file's bytes region by region: its keys as raw values, tensors as data
    const std::vector<uint8_t> bytes = testdata::read_file(testdata::stories_path());
    gguf_builder::Model b;
    // keys: rebuilt from the C API values
    for (size_t i = 0; i < lb_model_kv_count(m); ++i) {
        const std::string key = lb_model_kv_key(m, i);
        gguf_builder::Bytes v;
        const lb_value_type t = lb_model_kv_type(m, i);
        v.u32(static_cast<uint32_t>(t));
        if (t == LB_VALUE_STRING) {
            const char *s = nullptr;
            size_t len = 0;
            lb_model_kv_get_string(&s, &len, m, i);
            v.str(std::string(s, len));
        } else if (t == LB_VALUE_ARRAY) {
            lb_value_type et;
            uint64_t n = 0;
            lb_model_kv_get_array_info(&et, &n, m, i);
            v.u32(static_cast<uint32_t>(et)).u64(n);
            if (et == LB_VALUE_STRING) {
                for (uint64_t j = 0; j < n; ++j) {
                    const char *s = nullptr;
                    size_t len = 0;
                    lb_model_kv_get_array_string(&s, &len, m, i, j);
                    v.str(std::string(s, len));
                }
            } else {
                const void *data = nullptr;
                lb_model_kv_get_array_data(&data, m, i);
                const size_t size = et == LB_VALUE_F32 || et == LB_VALUE_I32 || et == LB_VALUE_U32 ? 4 : 1;
                v.raw(std::vector<uint8_t>(static_cast<const uint8_t *>(data),
                                           static_cast<const uint8_t *>(data) + n * size));
            }
        } else {
            uint64_t u = 0;
            double f = 0;
            if (t == LB_VALUE_F32) {
                lb_model_kv_get_float(&f, m, i);
                v.f32(static_cast<float>(f));
            } else {
                lb_model_kv_get_uint(&u, m, i);
                if (t == LB_VALUE_U32 || t == LB_VALUE_I32)
                    v.u32(static_cast<uint32_t>(u));
                else
                    v.u8(static_cast<uint8_t>(u));
            }
        }
        b.kvs.push_back({.key = key, .value = v});
    }
    for (size_t i = 0; i < lb_model_tensor_count(m); ++i) {
        gguf_builder::Tensor t;
        t.name = lb_model_tensor_name(m, i);
        for (uint32_t d = 0; d < lb_model_tensor_n_dims(m, i); ++d)
            t.ne.push_back(lb_model_tensor_dim(m, i, d));
        t.type = static_cast<uint32_t>(lb_model_tensor_type(m, i));
        const uint64_t off = lb_model_tensor_file_offset(m, i), size = lb_model_tensor_size(m, i);
        t.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(off),
                      bytes.begin() + static_cast<std::ptrdiff_t>(off + size));
        b.tensors.push_back(t);
    }
    lb_model_close(m);
    return b;
}

std::vector<RunCase> run_cases() {
    using gguf_builder::Model;
    auto drop_tensor = [](Model &m, const std::string &name) {
        std::erase_if(m.tensors, [&](const gguf_builder::Tensor &t) { return t.name == name; });
    };
    return {
        {"Unmodified", [](Model &) {}, {}},
        {"UnsupportedArchitecture",
         [](Model &m) { m.kv("general.architecture").value = gguf_builder::string_value("mamba"); },
         {"architecture 'mamba'"}},
        {"TensorMissing",
         [=](Model &m) { drop_tensor(m, "blk.2.ffn_up.weight"); },
         {"blk.2.ffn_up.weight", "missing"}},
        {"TensorOfTheWrongShape",
         [](Model &m) {
             gguf_builder::Tensor &t = m.tensor("blk.1.attn_k.weight");
             t.ne = {32, 64}; // was 64 x 32
         },
         {"blk.1.attn_k.weight", "[32, 64]", "expected [64, 32]"}},
        {"VocabularyLargerThanTheEmbedding",
         [](Model &m) {
             gguf_builder::Tensor &t = m.tensor("token_embd.weight");
             t.ne = {64, 256};
             t.data.resize(64 * 256 * 4);
             m.tensor("output.weight").ne = {64, 256};
             m.tensor("output.weight").data.resize(64 * 256 * 4);
         },
         {"512 tokens", "256 rows"}},
        {"NoTokenizer",
         [](Model &m) {
             std::erase_if(m.kvs,
                           [](const gguf_builder::KeyValue &k) { return k.key == "tokenizer.ggml.model"; });
         },
         {"tokenizer.ggml.model"}},
        {"UnknownTokenizer",
         [](Model &m) { m.kv("tokenizer.ggml.model").value = gguf_builder::string_value("bert"); },
         {"tokenizer model 'bert'"}},
        {"ScoresShorterThanTheTokens",
         [](Model &m) {
             m.kv("tokenizer.ggml.scores").value =
                 gguf_builder::Bytes().u32(9).u32(6).u64(3).f32(0).f32(0).f32(0);
         },
         {"tokenizer.ggml.scores", "3 values for 512 tokens"}},
        {"TokensNotStrings",
         [](Model &m) {
             m.kv("tokenizer.ggml.tokens").value = gguf_builder::Bytes().u32(9).u32(4).u64(1).u32(5);
         },
         {"tokenizer.ggml.tokens", "array of str"}},
        {"HeadCountMissing",
         [](Model &m) {
             std::erase_if(m.kvs, [](const gguf_builder::KeyValue &k) {
                 return k.key == "llama.attention.head_count";
             });
         },
         {"llama.attention.head_count", "missing"}},
        {"HeadsThatDoNotShareEvenly",
         [](Model &m) { m.kv("llama.attention.head_count_kv").value = gguf_builder::u32_value(3); },
         {"8 attention heads", "3 key/value heads"}},
    };
}

class SessionInput : public ::testing::TestWithParam<RunCase> {};

TEST_P(SessionInput, RunsOrFailsCleanly) {
    const RunCase &c = GetParam();
    testdata::TempDir dir;
    gguf_builder::Model m = stories_as_builder();
    c.edit(m);
    const std::string path = dir.file("model.gguf");
    testdata::write_file(path, m.build());
    for (const std::vector<std::string> &args :
         {std::vector<std::string>{"generate", path, "-p", "Once", "-n", "4"},
          std::vector<std::string>{"tokenize", path, "Once"}}) {
        const Outcome r = run_cli(args, 60);
        if (c.fragments.empty()) {
            EXPECT_EQ(r.exit_code, 0) << r.describe();
            continue;
        }
        std::vector<std::string> fragments = c.fragments;
        fragments.push_back(path);
        EXPECT_TRUE(failed_naming(r, fragments)) << args[0];
    }
}

INSTANTIATE_TEST_SUITE_P(Cases, SessionInput, ::testing::ValuesIn(run_cases()),
                         [](const ::testing::TestParamInfo<RunCase> &info) { return info.param.name; });

} // namespace
