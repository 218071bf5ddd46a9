#include "llama_peer.hpp"

#include "ggml_peer.hpp"
#include "llama.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <dlfcn.h>
#include <mutex>
#include <stdexcept>

namespace peer {

namespace {

// libllama's functions, typed by the peer's own llama.h.
struct Api {
    decltype(&llama_backend_init) backend_init;
    decltype(&llama_model_default_params) model_default_params;
    decltype(&llama_model_load_from_file) model_load_from_file;
    decltype(&llama_model_free) model_free;
    decltype(&llama_model_get_vocab) model_get_vocab;
    decltype(&llama_vocab_n_tokens) vocab_n_tokens;
    decltype(&llama_vocab_bos) vocab_bos;
    decltype(&llama_tokenize) tokenize;
    decltype(&llama_token_to_piece) token_to_piece;
    decltype(&llama_context_default_params) context_default_params;
    decltype(&llama_init_from_model) init_from_model;
    decltype(&llama_free) free;
    decltype(&llama_batch_init) batch_init;
    decltype(&llama_batch_free) batch_free;
    decltype(&llama_decode) decode;
    decltype(&llama_get_logits_ith) get_logits_ith;
    decltype(&llama_log_set) log_set;
    decltype(&llama_get_memory) get_memory;
    decltype(&llama_memory_clear) memory_clear;
    decltype(&llama_synchronize) synchronize;
};

std::string g_log;

template <typename F> void bind(void *h, F &fn, const char *name) {
    void *p = ::dlsym(h, name);
    if (p == nullptr) throw std::runtime_error(std::string("the reference peer lacks symbol ") + name);
    fn = reinterpret_cast<F>(p);
}

const Api &api() {
    static const Api a = [] {
        Ggml::get(); // libggml-base first (clear message if the peer is missing)
        const std::string dir = library_dir();
        void *ggml = ::dlopen((dir + "/libggml.so").c_str(), RTLD_NOW | RTLD_GLOBAL);
        if (ggml == nullptr)
            throw std::runtime_error(std::string("cannot load the peer's libggml.so: ") + ::dlerror());
        // The portable x86-64 build of ggml's CPU backend (its reference code:
        // the same numbers on every machine), or the variant LOWBIT_PEER_CPU
        // names (haswell, zen4 ...: libggml-cpu-<variant>.so; "best": the one
        // llama.cpp would choose for this CPU)
        const char *env = std::getenv("LOWBIT_PEER_CPU");
        const std::string variant = env != nullptr && *env != '\0' ? env : "x64";
        if (variant != "best") {
            void *(*load)(const char *) = nullptr;
            bind(ggml, load, "ggml_backend_load");
            if (load((dir + "/libggml-cpu-" + variant + ".so").c_str()) == nullptr)
                throw std::runtime_error("cannot load the peer's CPU backend " + variant);
        } else {
            void (*load_all_from_path)(const char *) = nullptr;
            bind(ggml, load_all_from_path, "ggml_backend_load_all_from_path");
            load_all_from_path(dir.c_str());
        }
        void *h = ::dlopen((dir + "/libllama.so").c_str(), RTLD_NOW | RTLD_LOCAL);
        if (h == nullptr)
            throw std::runtime_error(std::string("cannot load the peer's libllama.so: ") + ::dlerror());
        Api a{};
        bind(h, a.backend_init, "llama_backend_init");
        bind(h, a.model_default_params, "llama_model_default_params");
        bind(h, a.model_load_from_file, "llama_model_load_from_file");
        bind(h, a.model_free, "llama_model_free");
        bind(h, a.model_get_vocab, "llama_model_get_vocab");
        bind(h, a.vocab_n_tokens, "llama_vocab_n_tokens");
        bind(h, a.vocab_bos, "llama_vocab_bos");
        bind(h, a.tokenize, "llama_tokenize");
        bind(h, a.token_to_piece, "llama_token_to_piece");
        bind(h, a.context_default_params, "llama_context_default_params");
        bind(h, a.init_from_model, "llama_init_from_model");
        bind(h, a.free, "llama_free");
        bind(h, a.batch_init, "llama_batch_init");
        bind(h, a.batch_free, "llama_batch_free");
        bind(h, a.decode, "llama_decode");
        bind(h, a.get_logits_ith, "llama_get_logits_ith");
        bind(h, a.log_set, "llama_log_set");
        bind(h, a.get_memory, "llama_get_memory");
        bind(h, a.memory_clear, "llama_memory_clear");
        bind(h, a.synchronize, "llama_synchronize");
        a.backend_init();
        return a;
    }();
    return a;
}

std::mutex g_mutex; // the log capture is global

const llama_vocab *vocab_of(void *model) {
    return api().model_get_vocab(static_cast<const llama_model *>(model));
}

} // namespace

LlamaModel::LlamaModel(const std::string &path, bool vocab_only) {
    const Api &a = api();
    std::lock_guard<std::mutex> lock(g_mutex);
    g_log.clear();
    a.log_set([](ggml_log_level, const char *text, void *) { g_log += text; }, nullptr);
    llama_model_params p = a.model_default_params();
    p.vocab_only = vocab_only;
    model_ = a.model_load_from_file(path.c_str(), p);
    a.log_set([](ggml_log_level, const char *, void *) {}, nullptr);
    if (model_ == nullptr) throw std::runtime_error("llama.cpp cannot load " + path + ":\n" + g_log);
}

LlamaModel::~LlamaModel() {
    if (model_ != nullptr) api().model_free(static_cast<llama_model *>(model_));
}

std::vector<int32_t> LlamaModel::tokenize(const std::string &text, bool add_special,
                                          bool parse_special) const {
    const llama_vocab *v = vocab_of(model_);
    std::vector<llama_token> out(text.size() + 8);
    int32_t n = api().tokenize(v, text.data(), static_cast<int32_t>(text.size()), out.data(),
                               static_cast<int32_t>(out.size()), add_special, parse_special);
    if (n < 0) {
        out.resize(static_cast<size_t>(-n));
        n = api().tokenize(v, text.data(), static_cast<int32_t>(text.size()), out.data(),
                           static_cast<int32_t>(out.size()), add_special, parse_special);
    }
    out.resize(static_cast<size_t>(n));
    return {out.begin(), out.end()};
}

std::string LlamaModel::piece(int32_t token, bool special) const {
    char buf[256];
    const int32_t n = api().token_to_piece(vocab_of(model_), token, buf, sizeof buf, 0, special);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

int32_t LlamaModel::n_vocab() const {
    return api().vocab_n_tokens(vocab_of(model_));
}
int32_t LlamaModel::bos() const {
    return api().vocab_bos(vocab_of(model_));
}

namespace {

llama_context *new_context(void *model, const LlamaRunOptions &o,
                           ggml_backend_sched_eval_callback cb = nullptr, void *cb_user = nullptr) {
    const Api &a = api();
    llama_context_params cp = a.context_default_params();
    cp.n_ctx = static_cast<uint32_t>(o.n_ctx);
    cp.n_batch = static_cast<uint32_t>(o.n_batch);
    cp.n_ubatch = static_cast<uint32_t>(o.n_batch);
    cp.n_threads = o.threads;
    cp.n_threads_batch = o.threads;
    cp.flash_attn_type = o.flash_attn ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    if (o.f32_kv) cp.type_k = cp.type_v = GGML_TYPE_F32;
    cp.no_perf = true;
    cp.cb_eval = cb;
    cp.cb_eval_user_data = cb_user;
    llama_context *ctx = a.init_from_model(static_cast<llama_model *>(model), cp);
    if (ctx == nullptr) throw std::runtime_error("llama_init_from_model failed");
    return ctx;
}

// Decodes tokens from position 0 in batches of n_batch, all logits requested;
// on_batch(start, n) after each batch.
template <typename F>
void decode_all(llama_context *ctx, const std::vector<int32_t> &tokens, int n_batch, F on_batch) {
    const Api &a = api();
    llama_batch batch = a.batch_init(n_batch, 0, 1);
    for (size_t start = 0; start < tokens.size(); start += static_cast<size_t>(n_batch)) {
        const size_t n = std::min(tokens.size() - start, static_cast<size_t>(n_batch));
        batch.n_tokens = static_cast<int32_t>(n);
        for (size_t i = 0; i < n; ++i) {
            batch.token[i] = tokens[start + i];
            batch.pos[i] = static_cast<llama_pos>(start + i);
            batch.n_seq_id[i] = 1;
            batch.seq_id[i][0] = 0;
            batch.logits[i] = 1;
        }
        if (a.decode(ctx, batch) != 0) {
            a.batch_free(batch);
            throw std::runtime_error("llama_decode failed");
        }
        on_batch(start, n);
    }
    a.batch_free(batch);
}

} // namespace

std::vector<float> LlamaModel::logits(const std::vector<int32_t> &tokens, const LlamaRunOptions &o) const {
    const Api &a = api();
    llama_context *ctx = new_context(model_, o);
    const int32_t n_vocab = this->n_vocab();
    std::vector<float> out;
    out.reserve(tokens.size() * static_cast<size_t>(n_vocab));
    try {
        decode_all(ctx, tokens, o.n_batch, [&](size_t, size_t n) {
            for (size_t i = 0; i < n; ++i) {
                const float *l = a.get_logits_ith(ctx, static_cast<int32_t>(i));
                out.insert(out.end(), l, l + n_vocab);
            }
        });
    } catch (...) {
        a.free(ctx);
        throw;
    }
    a.free(ctx);
    return out;
}

namespace {

struct ImatrixState {
    bool process_output = false;
    std::map<std::string, LlamaModel::ImatrixEntry> *entries = nullptr;
};

// ggml_backend_sched_eval_callback: asked first whether the node's data is
// wanted, then called again with it computed.
bool collect_matmul_input(ggml_tensor *t, bool ask, void *user) {
    const ImatrixState &st = *static_cast<const ImatrixState *>(user);
    if (t->op != GGML_OP_MUL_MAT) return false;
    const ggml_tensor *w = t->src[0], *x = t->src[1];
    const std::string name = w->name;
    const bool wanted = (name.rfind("blk.", 0) == 0 || (st.process_output && name == "output.weight")) &&
                        x->type == GGML_TYPE_F32 && x->ne[1] >= 16;
    if (ask || !wanted) return wanted;
    LlamaModel::ImatrixEntry &e = (*st.entries)[name];
    const int64_t ne0 = x->ne[0];
    if (e.sums.empty()) e.sums.assign(static_cast<size_t>(ne0), 0.0);
    if (e.sums.size() != static_cast<size_t>(ne0)) return true; // never for one model: the test sees the gap
    for (int64_t i3 = 0; i3 < x->ne[3]; ++i3)
        for (int64_t i2 = 0; i2 < x->ne[2]; ++i2)
            for (int64_t r = 0; r < x->ne[1]; ++r) {
                const float *row = reinterpret_cast<const float *>(
                    static_cast<const char *>(x->data) + r * x->nb[1] + i2 * x->nb[2] + i3 * x->nb[3]);
                for (int64_t j = 0; j < ne0; ++j)
                    e.sums[static_cast<size_t>(j)] +=
                        static_cast<double>(row[j]) * static_cast<double>(row[j]);
                ++e.count;
            }
    return true;
}

} // namespace

std::map<std::string, LlamaModel::ImatrixEntry> LlamaModel::imatrix(const std::vector<int32_t> &tokens,
                                                                    int n_ctx, int chunks,
                                                                    bool process_output,
                                                                    const LlamaRunOptions &o) const {
    const Api &a = api();
    std::map<std::string, ImatrixEntry> entries;
    ImatrixState state{process_output, &entries};
    LlamaRunOptions ro = o;
    ro.n_ctx = n_ctx;
    ro.n_batch = n_ctx;
    llama_context *ctx = new_context(model_, ro, collect_matmul_input, &state);
    try {
        for (int c = 0; c < chunks; ++c) {
            std::vector<int32_t> chunk(tokens.begin() + static_cast<std::ptrdiff_t>(c) * n_ctx,
                                       tokens.begin() + static_cast<std::ptrdiff_t>(c + 1) * n_ctx);
            chunk[0] = bos();
            a.memory_clear(a.get_memory(ctx), true);
            decode_all(ctx, chunk, n_ctx, [](size_t, size_t) {});
        }
    } catch (...) {
        a.free(ctx);
        throw;
    }
    a.free(ctx);
    return entries;
}

std::vector<double> LlamaModel::eval_seconds(const std::vector<int32_t> &tokens, const LlamaRunOptions &o,
                                             int repeats) const {
    const Api &a = api();
    llama_context *ctx = new_context(model_, o);
    std::vector<double> seconds;
    try {
        for (int r = 0; r < repeats; ++r) {
            a.memory_clear(a.get_memory(ctx), true);
            const auto start = std::chrono::steady_clock::now();
            decode_all(ctx, tokens, o.n_batch, [](size_t, size_t) {});
            a.synchronize(ctx);
            seconds.push_back(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        }
    } catch (...) {
        a.free(ctx);
        throw;
    }
    a.free(ctx);
    return seconds;
}

} // namespace peer
