#include "convert/convert.hpp"

#include "common/error.hpp"
#include "common/thread_pool.hpp"
#include "convert/hf_config.hpp"
#include "convert/hf_tokenizer.hpp"
#include "convert/plan.hpp"
#include "formats/type_traits.hpp"
#include "gguf/writer.hpp"
#include "kernels/kernels.hpp"
#include "safetensors/shards.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

namespace lb::convert {

namespace {

uint32_t file_type_of(lb_type t) {
    switch (t) {
    case LB_TYPE_F32: return LB_FTYPE_ALL_F32;
    case LB_TYPE_F16: return LB_FTYPE_F16;
    case LB_TYPE_BF16: return LB_FTYPE_BF16;
    default: return LB_FTYPE_Q8_0;
    }
}

std::vector<gguf::KeyValue> model_kvs(const HfConfig &c, const source::Source &src, lb_type outtype) {
    const std::string a = c.arch;
    std::vector<gguf::KeyValue> kvs;
    auto u32 = [&](const std::string &key, int64_t v) {
        kvs.push_back({key, gguf::Value::u32(static_cast<uint32_t>(v))});
    };
    auto f32 = [&](const std::string &key, double v) {
        kvs.push_back({key, gguf::Value::f32(static_cast<float>(v))});
    };
    kvs.push_back({"general.architecture", gguf::Value::string(a)});
    kvs.push_back({"general.type", gguf::Value::string("model")});
    std::string name = c.name_or_path.empty() ? src.stem() : c.name_or_path;
    while (name.size() > 1 && name.back() == '/') name.pop_back();
    if (const size_t slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
    kvs.push_back({"general.name", gguf::Value::string(name)});
    u32(a + ".block_count", c.n_layer);
    if (c.n_ctx > 0) u32(a + ".context_length", c.n_ctx);
    u32(a + ".embedding_length", c.n_embd);
    u32(a + ".feed_forward_length", c.n_ff);
    u32(a + ".attention.head_count", c.n_head);
    u32(a + ".attention.head_count_kv", c.n_head_kv);
    if (c.rope_scaling) {
        const RopeScaling &s = *c.rope_scaling;
        if (s.type == "linear") {
            kvs.push_back({a + ".rope.scaling.type", gguf::Value::string("linear")});
            f32(a + ".rope.scaling.factor", s.factor);
        } else if (s.type == "yarn") {
            kvs.push_back({a + ".rope.scaling.type", gguf::Value::string("yarn")});
            f32(a + ".rope.scaling.factor", s.factor);
            u32(a + ".rope.scaling.original_context_length", s.original_context);
            if (s.ext_factor) f32(a + ".rope.scaling.yarn_ext_factor", *s.ext_factor);
            if (s.attn_factor) f32(a + ".rope.scaling.yarn_attn_factor", *s.attn_factor);
            if (s.beta_fast) f32(a + ".rope.scaling.yarn_beta_fast", *s.beta_fast);
            if (s.beta_slow) f32(a + ".rope.scaling.yarn_beta_slow", *s.beta_slow);
        } else if (s.type != "llama3" && s.type != "default") {
            fail(LB_E_UNSUPPORTED, "%s: rope_scaling type %s is not converted (linear, yarn, llama3)",
                 c.path.c_str(), s.type.c_str());
        }
    }
    if (c.rope_theta) f32(a + ".rope.freq_base", *c.rope_theta);
    f32(a + ".attention.layer_norm_rms_epsilon", c.rms_eps);
    if (c.head_dim_given) {
        u32(a + ".attention.key_length", c.head_dim);
        u32(a + ".attention.value_length", c.head_dim);
    }
    if (a == "llama") {
        u32(a + ".vocab_size", c.n_vocab);
        u32(a + ".rope.dimension_count", c.head_dim);
    }
    u32("general.file_type", file_type_of(outtype));
    if (outtype == LB_TYPE_Q8_0) u32("general.quantization_version", 2);
    return kvs;
}

void check_outtype(lb_type t) {
    if (t != LB_TYPE_F32 && t != LB_TYPE_F16 && t != LB_TYPE_BF16 && t != LB_TYPE_Q8_0) {
        const char *name = lb_type_name(t);
        fail(LB_E_INVALID_ARG, "convert writes F32, F16, BF16 or Q8_0, not %s", name != nullptr ? name : "?");
    }
}

void write_tensor(gguf::Writer &w, const Planned &p, int n_threads) {
    const int64_t n = p.ne[0];
    const int64_t rows = rows_of(p);
    const size_t out_row = formats::row_bytes(p.type, n);
    // chunks of about 16 MiB of output, converted on the pool, written in order
    const int64_t chunk_rows =
        std::max<int64_t>(1, static_cast<int64_t>((16u << 20) / std::max<size_t>(out_row, 1)));
    std::vector<uint8_t> buffer;
    const formats::SearchKernels &search = kernels::active().search;
    for (int64_t r0 = 0; r0 < rows; r0 += chunk_rows) {
        const int64_t r1 = std::min(rows, r0 + chunk_rows);
        buffer.resize(static_cast<size_t>(r1 - r0) * out_row);
        parallel_for(n_threads, r1 - r0, 16, [&](int64_t a, int64_t b) {
            convert_rows(p, r0 + a, r0 + b, buffer.data() + static_cast<size_t>(a) * out_row, search);
        });
        w.write(buffer.data(), buffer.size());
    }
    w.end_tensor();
}

} // namespace

std::vector<gguf::KeyValue> checkpoint_kvs(const source::Source &src, const HfConfig &c, lb_type outtype) {
    check_outtype(outtype);
    std::vector<gguf::KeyValue> kvs = model_kvs(c, src, outtype);
    for (gguf::KeyValue &kv : tokenizer_kvs(src, c)) kvs.push_back(std::move(kv));
    return kvs;
}

ConvertResult convert_checkpoint(const std::string &path, const std::string &out_path,
                                 const ConvertOptions &o) {
    check_outtype(o.outtype);
    const source::Source src(path);
    const HfConfig c = read_config(src);
    const std::vector<gguf::KeyValue> kvs = checkpoint_kvs(src, c, o.outtype);
    const safetensors::Shards shards = safetensors::Shards::open(src);
    const std::vector<Planned> planned = plan(c, shards, o.outtype);

    std::vector<gguf::TensorInfo> infos;
    for (const Planned &p : planned) infos.push_back(tensor_info(p, out_path));
    uint64_t total = 0, done = 0;
    for (const gguf::TensorInfo &t : infos) total += static_cast<uint64_t>(t.n_elements());
    const int n_threads = o.n_threads > 0 ? o.n_threads : hardware_threads();
    gguf::Writer w(out_path, kvs, std::move(infos));
    for (size_t i = 0; i < planned.size(); ++i) {
        const Planned &p = planned[i];
        if (p.source != nullptr) shards.file_of(*p.source).mapped().check_size();
        write_tensor(w, p, n_threads);
        if (p.source != nullptr) shards.file_of(*p.source).mapped().release(p.source->data, p.source->size);
        done += static_cast<uint64_t>(w.tensors()[i].n_elements());
        if (o.progress && !o.progress(done, total, i, planned.size(), p.name))
            fail(LB_E_CANCELLED, "convert: cancelled");
    }
    ConvertResult r;
    r.n_tensors = planned.size();
    r.bytes = w.commit();
    r.arch = c.arch;
    return r;
}

} // namespace lb::convert
