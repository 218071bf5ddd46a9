// lb_quantizer through the shared library: a run, its figures, warnings,
// cancellation, refusals, and that failures never leave an output file.
#include "lowbit/lowbit.h"
#include "test_data.hpp"

#include <atomic>
#include <cmath>
#include <cstring>
#include <gtest/gtest.h>
#include <string>
#include <thread>
#include <unistd.h>
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

lb_status quantize(const std::string &in, const std::string &out, lb_ftype ftype, int threads = 1,
                   bool allow_requantize = false) {
    Model model(in);
    Job job;
    EXPECT_EQ(lb_quantizer_set_ftype(job.q, ftype), LB_OK);
    EXPECT_EQ(lb_quantizer_set_threads(job.q, threads), LB_OK);
    EXPECT_EQ(lb_quantizer_set_allow_requantize(job.q, allow_requantize), LB_OK);
    return lb_quantizer_run(job.q, model.m, out.c_str());
}

TEST(Quantizer, RunWritesTheFileAndReportsFigures) {
    testdata::TempDir dir;
    Model model(testdata::stories_path());
    Job job;
    ASSERT_EQ(lb_quantizer_set_ftype(job.q, LB_FTYPE_Q4_0), LB_OK);
    std::vector<std::string> warnings;
    ASSERT_EQ(lb_quantizer_set_log(
                  job.q,
                  [](lb_log_level level, const char *msg, void *user) {
                      if (level == LB_LOG_WARN) static_cast<std::vector<std::string> *>(user)->push_back(msg);
                  },
                  &warnings),
              LB_OK);
    uint64_t calls = 0, last_done = 0;
    struct P {
        uint64_t *calls, *last_done;
    } p{&calls, &last_done};
    ASSERT_EQ(lb_quantizer_set_progress(
                  job.q,
                  [](const lb_progress *pr, void *user) {
                      P *pp = static_cast<P *>(user);
                      EXPECT_GE(pr->done_elements, *pp->last_done);
                      EXPECT_LE(pr->done_elements, pr->total_elements);
                      EXPECT_LT(pr->tensor_index, pr->tensor_count);
                      *pp->last_done = pr->done_elements;
                      ++*pp->calls;
                      return 0;
                  },
                  &p),
              LB_OK);
    const std::string out = dir.file("q4_0.gguf");
    ASSERT_EQ(lb_quantizer_run(job.q, model.m, out.c_str()), LB_OK) << lb_last_error();
    EXPECT_GE(calls, 48u);
    EXPECT_EQ(last_done, 292800u);
    EXPECT_EQ(lb_quantizer_stat(job.q, LB_STAT_TENSORS), 48u);
    EXPECT_EQ(lb_quantizer_stat(job.q, LB_STAT_QUANTIZED), 37u);
    EXPECT_EQ(lb_quantizer_stat(job.q, LB_STAT_FALLBACKS), 6u);
    EXPECT_EQ(lb_quantizer_stat(job.q, LB_STAT_ELEMENTS), 292800u);
    EXPECT_EQ(lb_quantizer_stat(job.q, LB_STAT_INPUT_BYTES), 292800u * 4);
    ASSERT_EQ(warnings.size(), 6u);
    EXPECT_NE(warnings[0].find("output.weight"), std::string::npos);
    EXPECT_NE(warnings[1].find("blk.0.ffn_down.weight"), std::string::npos);
    EXPECT_NE(warnings[1].find("F16"), std::string::npos);

    // the output: same tensors, metadata plus quantization version and file type
    Model q(out);
    EXPECT_EQ(lb_quantizer_stat(job.q, LB_STAT_OUTPUT_FILE_BYTES), lb_model_file_size(q.m));
    ASSERT_EQ(lb_model_tensor_count(q.m), 48u);
    uint64_t data = 0;
    for (size_t i = 0; i < 48; ++i) data += lb_model_tensor_size(q.m, i);
    EXPECT_EQ(lb_quantizer_stat(job.q, LB_STAT_OUTPUT_BYTES), data);
    size_t k = 0;
    uint64_t v = 0;
    ASSERT_EQ(lb_model_kv_find(&k, q.m, "general.file_type"), LB_OK);
    ASSERT_EQ(lb_model_kv_get_uint(&v, q.m, k), LB_OK);
    EXPECT_EQ(v, 2u);
    EXPECT_EQ(lb_model_kv_type(q.m, k), LB_VALUE_U32);
    ASSERT_EQ(lb_model_kv_find(&k, q.m, "general.quantization_version"), LB_OK);
    ASSERT_EQ(lb_model_kv_get_uint(&v, q.m, k), LB_OK);
    EXPECT_EQ(v, 2u);
    EXPECT_EQ(lb_model_kv_count(q.m), 21u); // 19 + 2
    ASSERT_EQ(lb_model_tensor_find(&k, q.m, "blk.1.attn_q.weight"), LB_OK);
    EXPECT_EQ(lb_model_tensor_type(q.m, k), LB_TYPE_Q4_0);
    EXPECT_EQ(dir.entries().size(), 1u); // no temporary left
}

TEST(Quantizer, ThreadsDoNotChangeTheBytes) {
    testdata::TempDir dir;
    for (lb_ftype f : {LB_FTYPE_Q4_1, LB_FTYPE_Q8_0}) {
        ASSERT_EQ(quantize(testdata::stories_path(), dir.file("t1.gguf"), f, 1), LB_OK) << lb_last_error();
        ASSERT_EQ(quantize(testdata::stories_path(), dir.file("t3.gguf"), f, 3), LB_OK) << lb_last_error();
        EXPECT_EQ(testdata::read_file(dir.file("t1.gguf")), testdata::read_file(dir.file("t3.gguf")));
    }
}

TEST(Quantizer, CancelFromProgressLeavesNoFile) {
    testdata::TempDir dir;
    Model model(testdata::stories_path());
    Job job;
    int calls = 0;
    ASSERT_EQ(lb_quantizer_set_progress(
                  job.q,
                  [](const lb_progress *, void *user) { return ++*static_cast<int *>(user) >= 10 ? 1 : 0; },
                  &calls),
              LB_OK);
    EXPECT_EQ(lb_quantizer_run(job.q, model.m, dir.file("out.gguf").c_str()), LB_E_CANCELLED);
    EXPECT_EQ(calls, 10);
    EXPECT_TRUE(dir.entries().empty());
    // a cancelled job can run again
    ASSERT_EQ(lb_quantizer_set_progress(job.q, nullptr, nullptr), LB_OK);
    EXPECT_EQ(lb_quantizer_run(job.q, model.m, dir.file("out.gguf").c_str()), LB_OK) << lb_last_error();
}

// The cancel arrives while the run is inside its first progress callback,
// which waits for it: deterministic, whatever the machine's speed.
TEST(Quantizer, CancelFromAnotherThreadLeavesExistingOutputAlone) {
    testdata::TempDir dir;
    const std::string out = dir.file("out.gguf");
    testdata::write_file(out, {1, 2, 3});
    Model model(testdata::stories_path());
    Job job;
    struct Handshake {
        std::atomic<bool> started{false}, cancelled{false};
    } hs;
    ASSERT_EQ(lb_quantizer_set_progress(
                  job.q,
                  [](const lb_progress *, void *user) {
                      auto *h = static_cast<Handshake *>(user);
                      h->started.store(true);
                      while (!h->cancelled.load()) std::this_thread::yield();
                      return 0;
                  },
                  &hs),
              LB_OK);
    std::thread canceller([&] {
        while (!hs.started.load()) std::this_thread::yield();
        lb_quantizer_cancel(job.q);
        hs.cancelled.store(true);
    });
    const lb_status st = lb_quantizer_run(job.q, model.m, out.c_str());
    canceller.join();
    EXPECT_EQ(st, LB_E_CANCELLED);
    EXPECT_EQ(testdata::read_file(out), (std::vector<uint8_t>{1, 2, 3}));
    EXPECT_EQ(dir.entries().size(), 1u);
}

// A mapped input cut short after it was opened: the run reports it before it
// touches the lost pages (which would raise SIGBUS), and writes nothing.
TEST(Quantizer, InputTruncatedAfterOpeningIsAnError) {
    testdata::TempDir dir;
    const std::string in = dir.file("in.gguf"), out = dir.file("out.gguf");
    const std::vector<uint8_t> bytes = testdata::read_file(testdata::stories_path());
    testdata::write_file(in, bytes);
    Model model(in);
    ASSERT_EQ(::truncate(in.c_str(), static_cast<off_t>(lb_model_data_offset(model.m))), 0);
    Job job;
    EXPECT_EQ(lb_quantizer_run(job.q, model.m, out.c_str()), LB_E_IO);
    const std::string message = lb_last_error();
    EXPECT_NE(message.find(in), std::string::npos) << message;
    EXPECT_NE(message.find("shrank"), std::string::npos) << message;
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"in.gguf"});
}

TEST(Quantizer, RefusesToOverwriteTheInput) {
    testdata::TempDir dir;
    const std::string in = dir.file("in.gguf");
    testdata::write_file(in, testdata::read_file(testdata::stories_path()));
    EXPECT_EQ(quantize(in, in, LB_FTYPE_Q8_0), LB_E_INVALID_ARG);
    EXPECT_NE(std::string(lb_last_error()).find("input"), std::string::npos);
    EXPECT_EQ(testdata::read_file(in), testdata::read_file(testdata::stories_path()));
    EXPECT_EQ(dir.entries().size(), 1u);
}

TEST(Quantizer, RequantizingNeedsPermission) {
    testdata::TempDir dir;
    ASSERT_EQ(quantize(testdata::stories_path(), dir.file("q8.gguf"), LB_FTYPE_Q8_0), LB_OK)
        << lb_last_error();
    EXPECT_EQ(quantize(dir.file("q8.gguf"), dir.file("q4.gguf"), LB_FTYPE_Q4_0), LB_E_UNSUPPORTED);
    const std::string msg = lb_last_error();
    EXPECT_NE(msg.find("already quantized"), std::string::npos) << msg;
    EXPECT_NE(msg.find("--allow-requantize"), std::string::npos) << msg;
    EXPECT_FALSE(testdata::file_exists(dir.file("q4.gguf")));
    EXPECT_EQ(quantize(dir.file("q8.gguf"), dir.file("q4.gguf"), LB_FTYPE_Q4_0, 1, true), LB_OK)
        << lb_last_error();
    // the same type is copied, which needs no permission
    EXPECT_EQ(quantize(dir.file("q8.gguf"), dir.file("q8b.gguf"), LB_FTYPE_Q8_0), LB_OK) << lb_last_error();
}

TEST(Quantizer, NonFiniteWeightsAreAnErrorNamingTheTensor) {
    testdata::TempDir dir;
    std::vector<uint8_t> bytes = testdata::read_file(testdata::stories_path());
    uint64_t offset = 0;
    {
        Model model(testdata::stories_path());
        size_t i = 0;
        ASSERT_EQ(lb_model_tensor_find(&i, model.m, "blk.2.attn_k.weight"), LB_OK);
        offset = lb_model_tensor_file_offset(model.m, i);
    }
    const float inf = INFINITY;
    std::memcpy(bytes.data() + offset + 4 * 70, &inf, 4); // row 1, column 6
    testdata::write_file(dir.file("inf.gguf"), bytes);
    EXPECT_EQ(quantize(dir.file("inf.gguf"), dir.file("out.gguf"), LB_FTYPE_Q4_0), LB_E_FORMAT);
    const std::string msg = lb_last_error();
    EXPECT_NE(msg.find("blk.2.attn_k.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("row 1 column 6"), std::string::npos) << msg;
    EXPECT_FALSE(testdata::file_exists(dir.file("out.gguf")));
    EXPECT_EQ(dir.entries().size(), 1u);
}

TEST(Quantizer, UnwritableOutputIsAnIoError) {
    EXPECT_EQ(quantize(testdata::stories_path(), "/nonexistent-dir/out.gguf", LB_FTYPE_Q8_0), LB_E_IO);
    EXPECT_NE(std::string(lb_last_error()).find("/nonexistent-dir/out.gguf"), std::string::npos);
}

TEST(Quantizer, FileTypes) {
    lb_ftype f;
    ASSERT_EQ(lb_ftype_from_name(&f, "q4_k"), LB_OK);
    EXPECT_EQ(f, LB_FTYPE_Q4_K_M);
    EXPECT_STREQ(lb_ftype_name(LB_FTYPE_ALL_F32), "F32");
    EXPECT_EQ(lb_ftype_from_name(&f, "Q4_Z"), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_ftype_default_type(LB_FTYPE_Q5_K_M), LB_TYPE_Q5_K);
    EXPECT_EQ(lb_ftype_is_supported(LB_FTYPE_Q5_1), 1);
    EXPECT_EQ(lb_ftype_is_supported(LB_FTYPE_IQ4_XS), 1);
    EXPECT_EQ(lb_ftype_is_supported(LB_FTYPE_NVFP4), 0); // llama.cpp writes no NVFP4 file type either
    Job job;
    EXPECT_EQ(lb_quantizer_set_ftype(job.q, static_cast<lb_ftype>(5)), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_quantizer_set_threads(job.q, -1), LB_E_INVALID_ARG);
}

} // namespace
