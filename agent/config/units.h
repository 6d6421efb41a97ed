// The number forms a profile accepts: plain unsigned integers, byte sizes with
// K/Ki/M/Mi/G/Gi/T/Ti suffixes and durations with us/ms/s suffixes. Every parser
// rejects overflow instead of wrapping, because a wrapped limit is a tiny limit
// (or a huge one) that nobody asked for.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace bulkhead::config {

// Decimal ("65536") or hexadecimal ("0x10000"). No sign, no spaces, no "_", and
// no leading zeros, which YAML 1.1 readers take as octal.
Result<uint64_t> parse_uint(std::string_view text);

// Bytes: "4096", "64Ki", "1G". K, M, G, T are powers of 1000; Ki, Mi, Gi, Ti of 1024.
Result<uint64_t> parse_size(std::string_view text);

// Microseconds from "250us", "50ms" or "2s". A unit is required: a bare number
// would be read as seconds by some and as microseconds by others.
Result<uint64_t> parse_duration_us(std::string_view text);

// Octal permission bits such as "1777" or "0755", at most 07777.
Result<uint32_t> parse_mode(std::string_view text);

}  // namespace bulkhead::config
