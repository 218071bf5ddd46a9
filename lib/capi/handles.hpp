// What the opaque C handles hold.
#pragma once

#include "gguf/gguf_file.hpp"
#include "lowbit/lowbit.h"
#include "quantizer/quantizer.hpp"

#include <memory>

struct lb_model {
    std::unique_ptr<lb::gguf::GgufFile> file;
};

struct lb_quantizer {
    lb::Quantizer job;
    lb::QuantizeStats stats; // of the last successful run
};
