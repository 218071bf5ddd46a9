#include "model/repack.hpp"

#include "common/error.hpp"
#include "formats/type_traits.hpp"
#include "gguf/writer.hpp"

#include <vector>

namespace lb {

namespace {

// The layout tensor t takes in a file repacked to `layout`.
formats::Layout target_layout(const gguf::TensorInfo &t, formats::Layout layout) {
    if (layout == formats::Layout::standard || t.name == "token_embd.weight")
        return formats::Layout::standard;
    const formats::LayoutTraits &lt = formats::layout_traits(layout);
    const formats::Layout now = formats::layout_of_file_type(t.type);
    const uint32_t base =
        now == formats::Layout::standard ? t.type : static_cast<uint32_t>(formats::layout_traits(now).base);
    if (base != static_cast<uint32_t>(lt.base) || t.n_dims != 2 || t.ne[1] % lt.rows != 0)
        return formats::Layout::standard;
    return layout;
}

// Writes tensor data from layout `from` to layout `to`, a group of rows at a time.
void write_tensor(gguf::Writer &writer, const Model::Tensor &t, formats::Layout from, formats::Layout to) {
    if (from == to) {
        writer.write(t.data, t.info->size);
        return;
    }
    const formats::Layout tiled = from == formats::Layout::standard ? to : from;
    const formats::LayoutTraits &lt = formats::layout_traits(tiled);
    const int64_t n = t.info->ne[0];
    const size_t group = formats::row_bytes(lt.base, n) * static_cast<size_t>(lt.rows);
    std::vector<uint8_t> buffer(group);
    for (int64_t g = 0; g < t.info->ne[1] / lt.rows; ++g) {
        const uint8_t *in = t.data + static_cast<size_t>(g) * group;
        if (to == tiled)
            formats::interleave(tiled, n, in, buffer.data());
        else
            formats::deinterleave(tiled, n, in, buffer.data());
        writer.write(buffer.data(), group);
    }
}

} // namespace

RepackResult write_repacked(const Model &model, const std::string &path, formats::Layout layout) {
    if (model.is_checkpoint())
        fail(LB_E_UNSUPPORTED,
             "%s: a Hugging Face checkpoint has no quantized matrices to repack: quantize it first",
             model.path().c_str());
    if (model.shard_count() != 1)
        fail(LB_E_UNSUPPORTED, "%s: a split model (%zu shards) cannot be repacked into one file yet",
             model.path().c_str(), model.shard_count());
    RepackResult result;
    std::vector<gguf::TensorInfo> infos;
    std::vector<formats::Layout> from, to;
    for (const Model::Tensor &t : model.tensors()) {
        gguf::TensorInfo info = *t.info;
        from.push_back(formats::layout_of_file_type(info.type));
        to.push_back(target_layout(info, layout));
        if (from.back() != formats::Layout::standard) info.type = formats::layout_traits(from.back()).base;
        if (to.back() != formats::Layout::standard) {
            info.type = formats::layout_traits(to.back()).file_type;
            ++result.tensors_tiled;
        }
        infos.push_back(info);
    }
    std::vector<gguf::KeyValue> kvs = model.kvs();
    const long k = gguf::find_key(kvs, kKeyLayout);
    if (k >= 0) kvs.erase(kvs.begin() + k);
    if (result.tensors_tiled > 0)
        kvs.push_back({.key = kKeyLayout, .value = gguf::Value::string(formats::layout_traits(layout).name)});
    gguf::Writer writer(path, kvs, infos);
    for (size_t i = 0; i < model.tensors().size(); ++i) {
        write_tensor(writer, model.tensors()[i], from[i], to[i]);
        writer.end_tensor();
        model.mapping(model.tensors()[i].shard).check_size();
    }
    result.bytes = writer.commit();
    return result;
}

} // namespace lb
