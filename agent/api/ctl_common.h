// Helpers shared by bulkheadctl's command files.
#pragma once

#include <memory>
#include <string>

#include "api/client.h"
#include "api/ctl.h"
#include "api/protocol.h"
#include "common/result.h"

namespace bulkhead::api::ctl {

// Connects, printing a message that says what to do about a failure; nullptr then.
std::unique_ptr<Client> connect_or_report(const Globals& g, Io io);
// Prints an agent error (as JSON with --json, else as lines on stderr); returns kExitError.
int report_api_error(const Globals& g, const ApiError& error, Io io);
// Prints a transport failure; returns kExitError.
int report_failure(const std::string& message, Io io);
int64_t now_unix_ms();

}  // namespace bulkhead::api::ctl
