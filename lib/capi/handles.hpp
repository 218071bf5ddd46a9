// What the opaque C handles hold.
#pragma once

#include "lowbit/lowbit.h"
#include "model/model.hpp"
#include "quantizer/quantizer.hpp"
#include "session/session.hpp"

#include <memory>

struct lb_model {
    std::unique_ptr<lb::Model> model;
};

struct lb_quantizer {
    lb::Quantizer job;
    std::vector<lb::QuantizeStats> stats; // of the last successful run, per output
};

struct lb_session {
    std::unique_ptr<lb::session::Session> session;
};
