#include "synth/synth_checkpoint.hpp"

#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "common/json.hpp"
#include "common/thread_pool.hpp"
#include "convert/tensor_map.hpp"
#include "formats/type_traits.hpp"
#include "kernels/kernels.hpp"
#include "safetensors/writer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sys/stat.h>

namespace lb::synth {

namespace {

using nlohmann::ordered_json;

const char *hf_architecture(lb_synth_arch a) {
    switch (a) {
    case LB_SYNTH_QWEN2: return "Qwen2ForCausalLM";
    case LB_SYNTH_QWEN3: return "Qwen3ForCausalLM";
    default: return "LlamaForCausalLM";
    }
}

const char *model_type(lb_synth_arch a) {
    switch (a) {
    case LB_SYNTH_QWEN2: return "qwen2";
    case LB_SYNTH_QWEN3: return "qwen3";
    default: return "llama";
    }
}

const char *torch_dtype(lb_type t) {
    switch (t) {
    case LB_TYPE_F16: return "float16";
    case LB_TYPE_BF16: return "bfloat16";
    default: return "float32";
    }
}

ordered_json config_json(const lb_synth_options &o) {
    ordered_json c = {
        {"architectures", {hf_architecture(o.arch)}},
        {"model_type", model_type(o.arch)},
        {"hidden_size", o.n_embd},
        {"intermediate_size", o.n_ff},
        {"num_hidden_layers", o.n_layer},
        {"num_attention_heads", o.n_head},
        {"num_key_value_heads", o.n_head_kv},
        {"max_position_embeddings", kContextLength},
        {"rms_norm_eps", static_cast<double>(kRmsEpsilon)},
        {"rope_theta", static_cast<double>(kRopeFreqBase)},
        {"tie_word_embeddings", o.tied_output != 0},
        {"vocab_size", kBuiltinVocabSize},
        {"bos_token_id", 1},
        {"eos_token_id", 2},
        {"torch_dtype", torch_dtype(o.type)},
    };
    if (o.arch == LB_SYNTH_QWEN2) c["attention_bias"] = true;
    if (o.arch == LB_SYNTH_QWEN3) c["head_dim"] = o.n_embd / o.n_head;
    return c;
}

// The built-in vocabulary (<unk>, <s>, </s>, the 256 bytes) as a
// SentencePiece-style BPE with byte fallback and no merges.
ordered_json tokenizer_json() {
    const std::string space = "\xe2\x96\x81"; // ▁
    ordered_json added = ordered_json::array();
    const char *specials[] = {"<unk>", "<s>", "</s>"};
    for (int id = 0; id < 3; ++id)
        added.push_back({{"id", id},
                         {"content", specials[id]},
                         {"single_word", false},
                         {"lstrip", false},
                         {"rstrip", false},
                         {"normalized", false},
                         {"special", true}});
    ordered_json vocab = ordered_json::object();
    for (int id = 0; id < 3; ++id) vocab[specials[id]] = id;
    for (int b = 0; b < 256; ++b) vocab[strformat("<0x%02X>", b)] = 3 + b;
    return {
        {"version", "1.0"},
        {"truncation", nullptr},
        {"padding", nullptr},
        {"added_tokens", added},
        {"normalizer",
         {{"type", "Sequence"},
          {"normalizers",
           {{{"type", "Prepend"}, {"prepend", space}},
            {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", space}}}}}},
        {"pre_tokenizer", nullptr},
        {"post_processor", nullptr},
        {"decoder",
         {{"type", "Sequence"},
          {"decoders",
           {{{"type", "Replace"}, {"pattern", {{"String", space}}}, {"content", " "}},
            {{"type", "ByteFallback"}},
            {{"type", "Fuse"}},
            {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
        {"model",
         {{"type", "BPE"},
          {"dropout", nullptr},
          {"unk_token", "<unk>"},
          {"continuing_subword_prefix", nullptr},
          {"end_of_word_suffix", nullptr},
          {"fuse_unk", true},
          {"byte_fallback", true},
          {"ignore_merges", false},
          {"vocab", vocab},
          {"merges", ordered_json::array()}}},
    };
}

ordered_json tokenizer_config_json() {
    return {{"bos_token", "<s>"},
            {"eos_token", "</s>"},
            {"unk_token", "<unk>"},
            {"add_bos_token", true},
            {"add_eos_token", false},
            {"model_max_length", kContextLength},
            {"tokenizer_class", "LlamaTokenizerFast"}};
}

uint64_t write_text(const std::string &path, const std::string &text) {
    AtomicFile f(path);
    f.write(text.data(), text.size());
    f.commit();
    return text.size();
}

// The temporary folder beside the output, removed unless released.
class TempFolder {
  public:
    explicit TempFolder(const std::string &folder) {
        std::filesystem::path target(folder);
        const std::string parent = target.has_parent_path() ? target.parent_path().string() : ".";
        std::string pattern = parent + "/." + target.filename().string() + ".lowbit-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr)
            fail(LB_E_IO, "%s: cannot create a temporary folder beside it: %s", folder.c_str(),
                 std::strerror(errno));
        path_ = pattern;
        ::chmod(path_.c_str(), 0755); // mkdtemp's 0700 is for temporary folders, not a model's
    }
    ~TempFolder() {
        std::error_code ignored;
        if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
    }
    TempFolder(const TempFolder &) = delete;
    TempFolder &operator=(const TempFolder &) = delete;
    const std::string &path() const { return path_; }
    void move_to(const std::string &folder) {
        if (::rename(path_.c_str(), folder.c_str()) != 0)
            fail(LB_E_IO, "%s: cannot put the checkpoint in place: %s", folder.c_str(), std::strerror(errno));
        path_.clear();
    }

  private:
    std::string path_;
};

void check_target(const std::string &folder) {
    struct stat st;
    if (::lstat(folder.c_str(), &st) != 0) return; // absent: fine
    std::error_code ec;
    if (!S_ISDIR(st.st_mode) || !std::filesystem::is_empty(folder, ec))
        fail(LB_E_IO, "%s: exists and is not an empty folder: lowbit writes a checkpoint into a new one",
             folder.c_str());
}

} // namespace

uint64_t write_checkpoint(const lb_synth_options &o, const std::string &folder_arg, const WriteOptions &w) {
    validate(o, "lb_synth_write_checkpoint");
    if (o.tokenizer_from != nullptr)
        fail(LB_E_INVALID_ARG, "lb_synth_write_checkpoint: tokenizer_from: a synthetic checkpoint carries "
                               "the built-in vocabulary");
    std::string folder = folder_arg;
    while (folder.size() > 1 && folder.back() == '/') folder.pop_back();
    if (folder.empty()) fail(LB_E_INVALID_ARG, "lb_synth_write_checkpoint: an empty folder name");
    check_target(folder);
    const std::vector<TensorSpec> specs = model_tensors(o, kBuiltinVocabSize);
    const int64_t head_dim = static_cast<int64_t>(o.n_embd / o.n_head);
    const bool rotary_permuted = o.arch == LB_SYNTH_LLAMA; // llama.cpp's order differs from transformers'

    TempFolder temp(folder);
    uint64_t bytes = write_text(temp.path() + "/config.json", config_json(o).dump(2) + "\n");
    bytes += write_text(temp.path() + "/tokenizer.json", tokenizer_json().dump());
    bytes += write_text(temp.path() + "/tokenizer_config.json", tokenizer_config_json().dump(2) + "\n");

    // the safetensors entries, and which spec each is
    std::vector<safetensors::WriteTensor> entries;
    std::map<std::string, std::pair<const TensorSpec *, bool>> by_name; // hf name -> spec, rows permuted
    uint64_t total = 0;
    for (const TensorSpec &s : specs) {
        bool permuted = false;
        const std::optional<std::string> name = convert::hf_name(s.name, &permuted);
        if (!name)
            fail(LB_E_INTERNAL, "lb_synth_write_checkpoint: no checkpoint name for %s", s.name.c_str());
        std::vector<int64_t> shape =
            s.n_dims == 1 ? std::vector<int64_t>{s.ne0} : std::vector<int64_t>{s.ne1, s.ne0};
        entries.push_back({*name, s.type, shape});
        by_name[*name] = {&s, permuted && rotary_permuted && s.n_dims == 2};
        total += static_cast<uint64_t>(s.n_elements());
    }
    safetensors::Writer writer(temp.path() + "/model.safetensors", entries, {{"format", "pt"}});

    const int n_threads = w.n_threads > 0 ? w.n_threads : hardware_threads();
    lb_progress progress{LB_PROGRESS_VERSION, 0, total, 0, specs.size(), ""};
    std::vector<uint8_t> buffer;
    for (size_t i = 0; i < writer.tensors().size(); ++i) {
        const auto &[spec, permuted] = by_name.at(writer.tensors()[i].name);
        const TensorSpec &s = *spec;
        progress.tensor_index = i;
        progress.tensor_name = s.name.c_str();
        if (w.progress != nullptr && w.progress(&progress, w.progress_user) != 0)
            fail(LB_E_CANCELLED,
                 "%s: writing the synthetic checkpoint was cancelled by the progress callback",
                 folder.c_str());
        // checkpoint row h is the model's row r with permuted_source_row(r) = h
        std::vector<int64_t> source(static_cast<size_t>(s.ne1));
        for (int64_t r = 0; r < s.ne1; ++r)
            source[static_cast<size_t>(permuted ? convert::permuted_source_row(r, head_dim) : r)] = r;
        const TensorGenerator gen(s, o.seed);
        const formats::TypeTraits &tt = formats::traits(s.type);
        const size_t row_bytes = formats::row_bytes(s.type, s.ne0);
        const int64_t chunk_rows = std::max<int64_t>(1, (int64_t{1} << 22) / s.ne0);
        for (int64_t r0 = 0; r0 < s.ne1; r0 += chunk_rows) {
            const int64_t nr = std::min(chunk_rows, s.ne1 - r0);
            buffer.resize(static_cast<size_t>(nr) * row_bytes);
            parallel_for(n_threads, nr, 1, [&](int64_t begin, int64_t end) {
                std::vector<float> row(static_cast<size_t>(s.ne0));
                for (int64_t r = begin; r < end; ++r) {
                    gen.row(source[static_cast<size_t>(r0 + r)], row.data());
                    tt.quantize(row.data(), buffer.data() + static_cast<size_t>(r) * row_bytes, s.ne0,
                                nullptr, kernels::active().search);
                }
            });
            writer.write(buffer.data(), buffer.size());
            progress.done_elements += static_cast<uint64_t>(nr * s.ne0);
        }
        writer.end_tensor();
    }
    bytes += writer.commit();
    temp.move_to(folder);
    return bytes;
}

} // namespace lb::synth
