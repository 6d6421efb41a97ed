// Builds the sink a spec describes (files checked, addresses resolved).
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "events/sink.h"
#include "events/sink_spec.h"

namespace bulkhead::events {

Result<std::unique_ptr<Sink>> make_sink(const SinkSpec& spec, const std::string& host);

}  // namespace bulkhead::events
