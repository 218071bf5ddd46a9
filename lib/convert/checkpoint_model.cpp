#include "convert/checkpoint_model.hpp"

#include "common/error.hpp"
#include "convert/convert.hpp"
#include "convert/hf_config.hpp"
#include "convert/plan.hpp"
#include "kernels/kernels.hpp"

namespace lb::convert {

CheckpointModel::CheckpointModel(const std::string &path) : CheckpointModel(source::Source(path)) {}

CheckpointModel::CheckpointModel(const source::Source &src)
    : folder_(src.path()), shards_(safetensors::Shards::open(src)) {
    const HfConfig c = read_config(src);
    header_.kvs = checkpoint_kvs(src, c, LB_TYPE_F32);
    // the checkpoint's own types for matrices; 1-D tensors F32, as convert writes them
    const std::vector<Planned> planned = plan(c, shards_, LB_TYPE_NONE);
    const std::vector<const safetensors::File *> files = shards_.files();
    const formats::SearchKernels &search = kernels::active().search;
    for (const Planned &p : planned) {
        gguf::TensorInfo t = tensor_info(p, folder_);
        Tensor served{0, nullptr};
        if (p.source != nullptr) {
            const safetensors::File &f = shards_.file_of(*p.source);
            for (size_t i = 0; i < files.size(); ++i)
                if (files[i] == &f) served.shard = i;
            if (p.permute_heads == 0 && p.type == p.source->type) {
                served.data = p.source->data; // in place
                t.offset = p.source->offset;
            }
        }
        if (served.data == nullptr) { // permuted, widened or computed: held here
            held_.push_back(std::make_unique<uint8_t[]>(t.size));
            convert_rows(p, 0, rows_of(p), held_.back().get(), search);
            served.data = held_.back().get();
        }
        header_.tensors.push_back(std::move(t));
        tensors_.push_back(served);
    }
}

} // namespace lb::convert
