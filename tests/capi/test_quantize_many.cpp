// lb_quantizer_run_many: several file types in one pass. Each output must be
// the file the single-type run writes (whose types and bytes the interop
// tests check against llama.cpp), with the same plan and figures; a failure
// or a cancel leaves none of the outputs; bad arguments are refused by name.
#include "lowbit/lowbit.h"
#include "test_data.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace {

struct Model {
    explicit Model(const std::string &path) {
        EXPECT_EQ(lb_model_open(&m, path.c_str()), LB_OK) << lb_last_error();
    }
    ~Model() { lb_model_close(m); }
    lb_model *m = nullptr;
};

struct Job {
    Job() { EXPECT_EQ(lb_quantizer_new(&q), LB_OK); }
    ~Job() { lb_quantizer_free(q); }
    lb_quantizer *q = nullptr;
};

std::vector<std::string> sorted_entries(const testdata::TempDir &dir) {
    std::vector<std::string> e = dir.entries();
    std::sort(e.begin(), e.end());
    return e;
}

struct PlanRow {
    std::string name;
    lb_type input_type, type;
    uint64_t bytes;
    bool operator==(const PlanRow &o) const {
        return name == o.name && input_type == o.input_type && type == o.type && bytes == o.bytes;
    }
};

// The plan entries of one output of the last run.
std::vector<PlanRow> plan_of(const lb_quantizer *q, size_t output) {
    std::vector<PlanRow> rows;
    for (size_t i = 0; i < lb_quantizer_plan_count(q); ++i)
        if (lb_quantizer_plan_output(q, i) == output)
            rows.push_back({lb_quantizer_plan_name(q, i), lb_quantizer_plan_input_type(q, i),
                            lb_quantizer_plan_type(q, i), lb_quantizer_plan_bytes(q, i)});
    return rows;
}

const lb_stat kStats[] = {LB_STAT_TENSORS,           LB_STAT_QUANTIZED,   LB_STAT_FALLBACKS,
                          LB_STAT_ELEMENTS,          LB_STAT_INPUT_BYTES, LB_STAT_OUTPUT_BYTES,
                          LB_STAT_OUTPUT_FILE_BYTES, LB_STAT_OUTPUT_FILES};

// A synthetic model with 256-wide rows (so every K-quant applies) and its
// importance matrix.
struct SynthModel {
    explicit SynthModel(const testdata::TempDir &dir)
        : path(dir.file("model.gguf")), imatrix(dir.file("im.gguf")) {
        lb_synth_options o;
        EXPECT_EQ(lb_synth_options_init(&o, LB_SYNTH_OPTIONS_VERSION), LB_OK);
        o.n_layer = 2;
        o.n_ff = 768;
        o.seed = 77;
        EXPECT_EQ(lb_synth_write_model(&o, path.c_str(), nullptr, nullptr), LB_OK) << lb_last_error();
        EXPECT_EQ(lb_synth_write_imatrix(&o, imatrix.c_str()), LB_OK) << lb_last_error();
    }
    std::string path, imatrix;
};

TEST(QuantizeMany, EachOutputIsItsSingleRunByteForByte) {
    testdata::TempDir dir;
    const SynthModel synth(dir);
    const std::vector<lb_ftype> types = {LB_FTYPE_Q4_K_M, LB_FTYPE_Q5_K_M, LB_FTYPE_Q8_0, LB_FTYPE_Q3_K_S,
                                         LB_FTYPE_Q4_0,   LB_FTYPE_Q2_K,   LB_FTYPE_F16};
    for (bool with_imatrix : {false, true}) {
        SCOPED_TRACE(with_imatrix ? "with an imatrix" : "without an imatrix");
        Model model(synth.path);
        Job many;
        ASSERT_EQ(lb_quantizer_set_threads(many.q, 2), LB_OK);
        if (with_imatrix) {
            ASSERT_EQ(lb_quantizer_set_imatrix(many.q, synth.imatrix.c_str()), LB_OK) << lb_last_error();
        }
        std::vector<std::string> paths;
        for (lb_ftype f : types) paths.push_back(dir.file(std::string("many-") + lb_ftype_name(f) + ".gguf"));
        std::vector<const char *> c_paths;
        for (const std::string &p : paths) c_paths.push_back(p.c_str());
        ASSERT_EQ(lb_quantizer_run_many(many.q, model.m, types.data(), c_paths.data(), types.size()), LB_OK)
            << lb_last_error();
        ASSERT_EQ(lb_quantizer_output_count(many.q), types.size());
        for (lb_stat s : kStats) {
            uint64_t sum = 0;
            for (size_t k = 0; k < types.size(); ++k) sum += lb_quantizer_output_stat(many.q, k, s);
            EXPECT_EQ(lb_quantizer_stat(many.q, s), sum) << "stat " << s;
        }
        for (size_t k = 0; k < types.size(); ++k) {
            SCOPED_TRACE(lb_ftype_name(types[k]));
            Job one;
            ASSERT_EQ(lb_quantizer_set_ftype(one.q, types[k]), LB_OK);
            if (with_imatrix) {
                ASSERT_EQ(lb_quantizer_set_imatrix(one.q, synth.imatrix.c_str()), LB_OK);
            }
            const std::string single = dir.file("single.gguf");
            ASSERT_EQ(lb_quantizer_run(one.q, model.m, single.c_str()), LB_OK) << lb_last_error();
            EXPECT_EQ(testdata::read_file(paths[k]), testdata::read_file(single));
            EXPECT_EQ(plan_of(many.q, k), plan_of(one.q, 0));
            for (lb_stat s : kStats)
                EXPECT_EQ(lb_quantizer_output_stat(many.q, k, s), lb_quantizer_stat(one.q, s))
                    << "stat " << s;
            EXPECT_EQ(lb_quantizer_output_count(one.q), 1u);
        }
        EXPECT_EQ(lb_quantizer_output_stat(many.q, types.size(), LB_STAT_TENSORS), 0u);
    }
}

// --keep-split names each output's shards from its own path.
TEST(QuantizeMany, KeepSplitSplitsEveryOutput) {
    testdata::TempDir dir;
    Model model(testdata::stories_path());
    Job job;
    ASSERT_EQ(lb_quantizer_set_keep_split(job.q, 1), LB_OK);
    const lb_ftype types[] = {LB_FTYPE_Q8_0, LB_FTYPE_Q4_0};
    const std::string a = dir.file("a.gguf"), b = dir.file("b");
    const char *paths[] = {a.c_str(), b.c_str()};
    ASSERT_EQ(lb_quantizer_run_many(job.q, model.m, types, paths, 2), LB_OK) << lb_last_error();
    std::vector<std::string> written = dir.entries();
    std::sort(written.begin(), written.end());
    EXPECT_EQ(written, (std::vector<std::string>{"a-00001-of-00001.gguf", "b-00001-of-00001.gguf"}));
    EXPECT_EQ(lb_quantizer_stat(job.q, LB_STAT_OUTPUT_FILES), 2u);
}

// A NaN in the last tensor fails the run after the other tensors were
// written: no output appears, and a file already at one of the paths stays.
TEST(QuantizeMany, AFailureOrACancelLeavesNoOutput) {
    testdata::TempDir dir;
    std::vector<uint8_t> bytes = testdata::read_file(testdata::stories_path());
    std::string last;
    {
        Model model(testdata::stories_path());
        const size_t n = lb_model_tensor_count(model.m);
        size_t i = n - 1;
        while (lb_model_tensor_type(model.m, i) != LB_TYPE_F32 || lb_model_tensor_n_dims(model.m, i) < 2) --i;
        last = lb_model_tensor_name(model.m, i);
        const float nan = NAN;
        std::memcpy(bytes.data() + lb_model_tensor_file_offset(model.m, i) + 4 * 3, &nan, 4);
    }
    testdata::write_file(dir.file("nan.gguf"), bytes);
    const std::string a = dir.file("a.gguf"), b = dir.file("b.gguf");
    testdata::write_file(b, {7, 7, 7});
    const char *paths[] = {a.c_str(), b.c_str()};
    const lb_ftype types[] = {LB_FTYPE_Q8_0, LB_FTYPE_Q4_0};
    {
        Model model(dir.file("nan.gguf"));
        Job job;
        EXPECT_EQ(lb_quantizer_run_many(job.q, model.m, types, paths, 2), LB_E_FORMAT);
        const std::string msg = lb_last_error();
        EXPECT_NE(msg.find(last), std::string::npos) << msg;
        EXPECT_NE(msg.find("NaN"), std::string::npos) << msg;
        EXPECT_EQ(lb_quantizer_output_count(job.q), 0u);
    }
    EXPECT_EQ(sorted_entries(dir), (std::vector<std::string>{"b.gguf", "nan.gguf"}));
    EXPECT_EQ(testdata::read_file(b), (std::vector<uint8_t>{7, 7, 7}));

    Model model(testdata::stories_path());
    Job job;
    int calls = 0;
    ASSERT_EQ(lb_quantizer_set_progress(
                  job.q,
                  [](const lb_progress *, void *user) { return ++*static_cast<int *>(user) >= 20 ? 1 : 0; },
                  &calls),
              LB_OK);
    EXPECT_EQ(lb_quantizer_run_many(job.q, model.m, types, paths, 2), LB_E_CANCELLED);
    EXPECT_EQ(calls, 20);
    EXPECT_EQ(sorted_entries(dir), (std::vector<std::string>{"b.gguf", "nan.gguf"}));
}

TEST(QuantizeMany, BadArgumentsAreRefusedByName) {
    testdata::TempDir dir;
    Model model(testdata::stories_path());
    Job job;
    const std::string a = dir.file("a.gguf");
    const char *paths[] = {a.c_str(), a.c_str()};
    const lb_ftype types[] = {LB_FTYPE_Q8_0, LB_FTYPE_Q4_0};
    auto refused = [&](lb_status st, const char *part) {
        const std::string msg = lb_last_error();
        EXPECT_NE(msg.find(part), std::string::npos) << msg;
        return st;
    };
    EXPECT_EQ(refused(lb_quantizer_run_many(job.q, model.m, types, paths, 0), "no outputs"),
              LB_E_INVALID_ARG);
    EXPECT_EQ(refused(lb_quantizer_run_many(job.q, model.m, nullptr, paths, 2), "ftypes"), LB_E_INVALID_ARG);
    EXPECT_EQ(refused(lb_quantizer_run_many(job.q, model.m, types, nullptr, 2), "out_paths"),
              LB_E_INVALID_ARG);
    EXPECT_EQ(refused(lb_quantizer_run_many(nullptr, model.m, types, paths, 2), "quantizer"),
              LB_E_INVALID_ARG);
    EXPECT_EQ(refused(lb_quantizer_run_many(job.q, nullptr, types, paths, 2), "model"), LB_E_INVALID_ARG);
    const lb_ftype bad[] = {LB_FTYPE_Q8_0, static_cast<lb_ftype>(1234)};
    EXPECT_EQ(refused(lb_quantizer_run_many(job.q, model.m, bad, paths, 2), "ftypes[1]"), LB_E_INVALID_ARG);
    const char *with_null[] = {a.c_str(), nullptr};
    EXPECT_EQ(refused(lb_quantizer_run_many(job.q, model.m, types, with_null, 2), "out_paths[1]"),
              LB_E_INVALID_ARG);
    EXPECT_EQ(refused(lb_quantizer_run_many(job.q, model.m, types, paths, 2), "two outputs"),
              LB_E_INVALID_ARG);
    const std::string input = testdata::stories_path();
    const char *onto_input[] = {a.c_str(), input.c_str()};
    EXPECT_EQ(refused(lb_quantizer_run_many(job.q, model.m, types, onto_input, 2), "input"),
              LB_E_INVALID_ARG);
    EXPECT_TRUE(dir.entries().empty());
}

} // namespace
