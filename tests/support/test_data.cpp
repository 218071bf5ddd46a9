#include "test_data.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace testdata {

std::string source_path(const std::string &relative) {
    return std::string(LOWBIT_SOURCE_DIR) + "/" + relative;
}
std::string stories_path() {
    return source_path("models/stories260K.gguf");
}
std::string shared_data_path(const std::string &relative) {
    const std::string folder = source_path("../shared/data");
    return relative.empty() ? folder : folder + "/" + relative;
}
std::string cli_path() {
    return std::string(LOWBIT_BINARY_DIR) + "/bin/lowbit";
}

TempDir::TempDir() {
    std::string templ = std::string(LOWBIT_BINARY_DIR) + "/test-tmp-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + templ);
    path_ = templ;
}

TempDir::~TempDir() {
    for (const std::string &e : entries()) ::unlink((path_ + "/" + e).c_str());
    ::rmdir(path_.c_str());
}

std::vector<std::string> TempDir::entries() const {
    std::vector<std::string> out;
    DIR *d = ::opendir(path_.c_str());
    if (d == nullptr) return out;
    while (dirent *e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name != "." && name != "..") out.push_back(name);
    }
    ::closedir(d);
    return out;
}

bool file_exists(const std::string &path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

std::string validation_text(size_t n) {
    const std::vector<uint8_t> all = read_file(source_path("tests/data/tinystories_val.txt"));
    return std::string(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(std::min(n, all.size())));
}

void quantize_with_lowbit(const std::string &in, const std::string &out, lb_ftype ftype) {
    lb_model *m = nullptr;
    lb_quantizer *q = nullptr;
    const bool ok = lb_model_open(&m, in.c_str()) == LB_OK && lb_quantizer_new(&q) == LB_OK &&
                    lb_quantizer_set_ftype(q, ftype) == LB_OK && lb_quantizer_run(q, m, out.c_str()) == LB_OK;
    const std::string error = ok ? "" : lb_last_error();
    lb_quantizer_free(q);
    lb_model_close(m);
    if (!ok) throw std::runtime_error("quantizing " + in + ": " + error);
}

std::vector<uint8_t> read_file(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot read " + path);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void write_file(const std::string &path, const std::vector<uint8_t> &bytes) {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!f) throw std::runtime_error("cannot write " + path);
}

std::vector<float> stories_weights() {
    return model_weights(stories_path());
}

std::vector<float> model_weights(const std::string &path, const std::string &skip) {
    lb_model *m = nullptr;
    if (lb_model_open(&m, path.c_str()) != LB_OK)
        throw std::runtime_error("cannot open " + path + ": " + lb_last_error());
    std::vector<float> out;
    for (size_t i = 0; i < lb_model_tensor_count(m); ++i) {
        if (lb_model_tensor_n_dims(m, i) != 2 || lb_model_tensor_type(m, i) != LB_TYPE_F32) continue;
        if (!skip.empty() && std::string(lb_model_tensor_name(m, i)).find(skip) != std::string::npos)
            continue;
        const void *data;
        uint64_t size;
        lb_model_tensor_data(&data, &size, m, i);
        const float *f = static_cast<const float *>(data);
        out.insert(out.end(), f, f + size / sizeof(float));
    }
    lb_model_close(m);
    return out;
}

std::vector<TestTensor> quality_tensors(int64_t cols) {
    std::vector<TestTensor> out;
    Rng rng(20261123);
    auto imatrix = [&](int64_t n) {
        // log-normal spread of column importances, as real imatrices have
        std::vector<float> im(static_cast<size_t>(n));
        for (float &v : im) v = static_cast<float>(std::exp(1.5 * rng.normal()));
        return im;
    };
    const int64_t rows = 128;
    {
        TestTensor t{"gaussian", rows, cols, {}, {}};
        for (int64_t i = 0; i < rows * cols; ++i) t.data.push_back(static_cast<float>(0.02 * rng.normal()));
        t.imatrix = imatrix(cols);
        out.push_back(std::move(t));
    }
    {
        // Student-t with 3 degrees of freedom, plus 0.2% outliers of 10-30x
        TestTensor t{"heavy_tailed_outliers", rows, cols, {}, {}};
        for (int64_t i = 0; i < rows * cols; ++i) {
            const double z = rng.normal();
            double chi2 = 0;
            for (int k = 0; k < 3; ++k) {
                const double g = rng.normal();
                chi2 += g * g;
            }
            double v = 0.02 * z / std::sqrt(chi2 / 3.0);
            if (rng.uniform() < 0.002) v *= 10.0 + 20.0 * rng.uniform();
            t.data.push_back(static_cast<float>(v));
        }
        t.imatrix = imatrix(cols);
        out.push_back(std::move(t));
    }
    {
        // rows with scales spread over two orders of magnitude
        TestTensor t{"row_scale_spread", rows, cols, {}, {}};
        for (int64_t r = 0; r < rows; ++r) {
            const double scale = 0.002 * std::exp(2.3 * rng.uniform() * 2.0);
            for (int64_t c = 0; c < cols; ++c) t.data.push_back(static_cast<float>(scale * rng.normal()));
        }
        t.imatrix = imatrix(cols);
        out.push_back(std::move(t));
    }
    {
        const std::vector<float> w = stories_weights();
        TestTensor t{"stories260K_weights", static_cast<int64_t>(w.size()) / cols, cols, {}, {}};
        t.data.assign(w.begin(), w.begin() + t.rows * cols);
        t.imatrix = imatrix(cols);
        out.push_back(std::move(t));
    }
    return out;
}

std::vector<TestTensor> heldout_tensors(int64_t cols) {
    Rng rng(20261203);
    const std::vector<float> w = model_weights(source_path("models/tinystories-656k"), "token_embd");
    const int64_t rows = std::min<int64_t>(static_cast<int64_t>(w.size()) / cols, 512);
    TestTensor t{"tinystories656k_heldout", rows, cols, {}, {}};
    t.data.assign(w.begin(), w.begin() + rows * cols);
    t.imatrix.resize(static_cast<size_t>(cols));
    for (float &v : t.imatrix) v = static_cast<float>(std::exp(1.5 * rng.normal()));
    return {std::move(t)};
}

} // namespace testdata
