// lb_session: running a model.
#include "session/session.hpp"
#include "capi/guard.hpp"
#include "capi/handles.hpp"

#include <cstring>

using lb::fail;
using lb::capi::guard;
using lb::capi::require;

namespace {

lb::session::Session &get(lb_session *s, const char *fn) {
    require(s, fn, "session");
    return *s->session;
}

const lb::session::Session &get(const lb_session *s, const char *fn) {
    require(s, fn, "session");
    return *s->session;
}

lb_perplexity to_c(const lb::session::PerplexityResult &r) {
    lb_perplexity p{};
    p.version = LB_PERPLEXITY_VERSION;
    p.perplexity = r.perplexity;
    p.uncertainty = r.uncertainty;
    p.mean_nll = r.mean_nll;
    p.n_tokens = r.n_tokens;
    p.n_chunks = r.n_chunks;
    p.n_chunks_done = r.n_chunks_done;
    p.n_scored = r.n_scored;
    p.seconds = r.seconds;
    return p;
}

void defaults(lb_generate_options &o) {
    const lb::session::GenerateOptions d;
    o = lb_generate_options{};
    o.version = LB_GENERATE_OPTIONS_VERSION;
    o.max_tokens = d.max_tokens;
    o.temperature = d.temperature;
    o.top_k = d.top_k;
    o.top_p = d.top_p;
    o.seed = d.seed;
    o.stop_at_end = d.stop_at_end ? 1 : 0;
}

} // namespace

extern "C" {

lb_status lb_session_new(lb_session **out, const lb_model *model) {
    return guard([&] {
        require(out, "lb_session_new", "out");
        require(model, "lb_session_new", "model");
        auto s = std::make_unique<lb_session>();
        s->session = std::make_unique<lb::session::Session>(*model->model);
        *out = s.release();
    });
}

void lb_session_free(lb_session *session) {
    delete session;
}

lb_status lb_session_set_param(lb_session *session, lb_session_param param, int64_t value) {
    return guard([&] {
        lb::session::SessionParams &p = get(session, "lb_session_set_param").params;
        auto in = [&](int64_t lo, int64_t hi, const char *name) {
            if (value < lo || value > hi)
                fail(LB_E_INVALID_ARG, "lb_session_set_param: %s must be %lld..%lld, not %lld", name,
                     static_cast<long long>(lo), static_cast<long long>(hi), static_cast<long long>(value));
            return static_cast<int>(value);
        };
        switch (param) {
        case LB_SESSION_THREADS: p.n_threads = in(0, 1024, "LB_SESSION_THREADS"); break;
        case LB_SESSION_CONTEXT: p.n_ctx = in(0, 1 << 20, "LB_SESSION_CONTEXT"); break;
        case LB_SESSION_BATCH: p.n_batch = in(1, 1 << 16, "LB_SESSION_BATCH"); break;
        case LB_SESSION_CACHE_TYPE:
            if (value != LB_TYPE_F16 && value != LB_TYPE_F32)
                fail(LB_E_INVALID_ARG,
                     "lb_session_set_param: LB_SESSION_CACHE_TYPE must be LB_TYPE_F16 or LB_TYPE_F32");
            p.kv_type = static_cast<lb_type>(value);
            break;
        case LB_SESSION_REPACK: p.repack = in(0, 1, "LB_SESSION_REPACK") != 0; break;
        default:
            fail(LB_E_INVALID_ARG, "lb_session_set_param: unknown parameter %d", static_cast<int>(param));
        }
    });
}

lb_status lb_session_get_param(int64_t *out, const lb_session *session, lb_session_param param) {
    return guard([&] {
        require(out, "lb_session_get_param", "out");
        const lb::session::Session &s = get(session, "lb_session_get_param");
        switch (param) {
        case LB_SESSION_THREADS: *out = s.params.n_threads; break;
        case LB_SESSION_CONTEXT: *out = s.params.n_ctx; break;
        case LB_SESSION_BATCH: *out = s.params.n_batch; break;
        case LB_SESSION_CACHE_TYPE: *out = s.params.kv_type; break;
        case LB_SESSION_REPACK: *out = s.params.repack ? 1 : 0; break;
        default:
            fail(LB_E_INVALID_ARG, "lb_session_get_param: unknown parameter %d", static_cast<int>(param));
        }
    });
}

lb_status lb_session_tokenize(const lb_session *session, const char *text, size_t len, uint32_t flags,
                              int32_t *tokens, size_t capacity, size_t *n_tokens) {
    return guard([&] {
        const lb::session::Session &s = get(session, "lb_session_tokenize");
        require(n_tokens, "lb_session_tokenize", "n_tokens");
        if (len > 0) require(text, "lb_session_tokenize", "text");
        if (capacity > 0) require(tokens, "lb_session_tokenize", "tokens");
        const std::vector<int32_t> t = s.tokenizer().tokenize(std::string_view(len > 0 ? text : "", len),
                                                              (flags & LB_TOKENIZE_ADD_SPECIAL) != 0,
                                                              (flags & LB_TOKENIZE_PARSE_SPECIAL) != 0);
        *n_tokens = t.size();
        if (t.size() > capacity)
            fail(LB_E_INVALID_ARG, "lb_session_tokenize: the text has %zu tokens, more than the capacity %zu",
                 t.size(), capacity);
        if (!t.empty()) std::memcpy(tokens, t.data(), t.size() * sizeof(int32_t));
    });
}

lb_status lb_session_detokenize(const lb_session *session, const int32_t *tokens, size_t n, int special,
                                char *text, size_t capacity, size_t *len) {
    return guard([&] {
        const lb::session::Session &s = get(session, "lb_session_detokenize");
        require(len, "lb_session_detokenize", "len");
        if (n > 0) require(tokens, "lb_session_detokenize", "tokens");
        if (capacity > 0) require(text, "lb_session_detokenize", "text");
        const std::string out =
            s.tokenizer().detokenize(std::vector<int32_t>(tokens, tokens + n), special != 0);
        *len = out.size();
        if (out.size() > capacity)
            fail(LB_E_INVALID_ARG, "lb_session_detokenize: the text is %zu bytes, more than the capacity %zu",
                 out.size(), capacity);
        if (!out.empty()) std::memcpy(text, out.data(), out.size());
    });
}

size_t lb_session_vocab_size(const lb_session *session) {
    return session != nullptr ? static_cast<size_t>(session->session->config().n_vocab) : 0;
}

int32_t lb_session_special_token(const lb_session *session, lb_special_token which) {
    if (session == nullptr) return -1;
    const lb::tokenizer::Vocab &v = session->session->tokenizer().vocab();
    switch (which) {
    case LB_TOKEN_BOS: return v.bos;
    case LB_TOKEN_EOS: return v.eos;
    case LB_TOKEN_UNK: return v.unk;
    case LB_TOKEN_PAD: return v.pad;
    case LB_TOKEN_EOT: return v.eot;
    default: return -1;
    }
}

lb_status lb_session_clear(lb_session *session) {
    return guard([&] { get(session, "lb_session_clear").clear(); });
}

size_t lb_session_position(const lb_session *session) {
    return session != nullptr ? static_cast<size_t>(session->session->n_past()) : 0;
}

lb_status lb_session_eval(lb_session *session, const int32_t *tokens, size_t n, const uint8_t *outputs) {
    return guard([&] {
        lb::session::Session &s = get(session, "lb_session_eval");
        require(tokens, "lb_session_eval", "tokens");
        s.eval(tokens, n, outputs);
    });
}

size_t lb_session_n_logits(const lb_session *session) {
    return session != nullptr ? session->session->n_logits() : 0;
}

const float *lb_session_logits(const lb_session *session, size_t k) {
    if (session == nullptr || k >= session->session->n_logits()) return nullptr;
    return session->session->logits(k);
}

void lb_session_cancel(lb_session *session) {
    if (session != nullptr) session->session->cancel();
}

lb_status lb_session_set_observer(lb_session *session, lb_observer_fn fn, void *user) {
    return guard([&] {
        lb::session::Session &s = get(session, "lb_session_set_observer");
        if (fn == nullptr) {
            s.set_observer(nullptr);
            return;
        }
        s.set_observer([fn, user](const lb::session::Matrix &m, const float *rows, int64_t n_rows) {
            lb_matmul_input in{};
            in.version = LB_MATMUL_INPUT_VERSION;
            in.weight = m.name.c_str();
            in.layer = m.layer;
            in.n_rows = n_rows;
            in.n_cols = m.w.n;
            in.rows = rows;
            return fn(&in, user) == 0;
        });
    });
}

lb_status lb_session_perplexity(lb_session *session, const char *text, size_t len, int64_t n_ctx,
                                int64_t max_chunks, lb_perplexity_fn progress, void *user,
                                lb_perplexity *out) {
    return guard([&] {
        lb::session::Session &s = get(session, "lb_session_perplexity");
        require(out, "lb_session_perplexity", "out");
        if (out->version != LB_PERPLEXITY_VERSION)
            fail(LB_E_INVALID_ARG,
                 "lb_session_perplexity: out->version is %u: set it to LB_PERPLEXITY_VERSION (%u) before the "
                 "call",
                 out->version, static_cast<unsigned>(LB_PERPLEXITY_VERSION));
        if (len > 0) require(text, "lb_session_perplexity", "text");
        if (n_ctx < 2 || n_ctx > (1 << 20))
            fail(LB_E_INVALID_ARG, "lb_session_perplexity: n_ctx must be 2..%d, not %lld", 1 << 20,
                 static_cast<long long>(n_ctx));
        if (max_chunks < 0 || max_chunks > (1ll << 31))
            fail(LB_E_INVALID_ARG, "lb_session_perplexity: max_chunks is %lld",
                 static_cast<long long>(max_chunks));
        const auto on_chunk = [&](const lb::session::PerplexityResult &r) {
            if (progress == nullptr) return true;
            const lb_perplexity p = to_c(r);
            return progress(&p, user) == 0;
        };
        *out = to_c(s.perplexity(std::string(len > 0 ? text : "", len), static_cast<int>(n_ctx),
                                 static_cast<int>(max_chunks), on_chunk));
    });
}

lb_status lb_generate_options_init(lb_generate_options *o, uint32_t version) {
    return guard([&] {
        require(o, "lb_generate_options_init", "o");
        if (version != LB_GENERATE_OPTIONS_VERSION)
            fail(LB_E_INVALID_ARG,
                 "lb_generate_options_init: options version %u is unknown to this library (it knows %u)",
                 version, static_cast<unsigned>(LB_GENERATE_OPTIONS_VERSION));
        defaults(*o);
    });
}

lb_status lb_session_generate(lb_session *session, const char *prompt, size_t len,
                              const lb_generate_options *o, lb_token_fn on_token, void *user) {
    return guard([&] {
        lb::session::Session &s = get(session, "lb_session_generate");
        require(prompt, "lb_session_generate", "prompt");
        lb_generate_options d;
        defaults(d);
        if (o == nullptr) o = &d;
        if (o->version != LB_GENERATE_OPTIONS_VERSION)
            fail(LB_E_INVALID_ARG,
                 "lb_session_generate: options version is %u, expected %u: initialise them with "
                 "lb_generate_options_init()",
                 o->version, static_cast<unsigned>(LB_GENERATE_OPTIONS_VERSION));
        lb::session::GenerateOptions g;
        g.max_tokens = o->max_tokens;
        g.temperature = o->temperature;
        g.top_k = o->top_k;
        g.top_p = o->top_p;
        g.seed = o->seed;
        g.stop_at_end = o->stop_at_end != 0;
        s.generate(std::string(prompt, len), g, [&](int32_t t, const std::string &piece) {
            return on_token == nullptr || on_token(t, piece.data(), piece.size(), user) == 0;
        });
    });
}

} // extern "C"
