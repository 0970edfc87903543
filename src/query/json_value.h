// SPDX-License-Identifier: Apache-2.0
//
// A parsed JSON value as a QueryValue (value.cc): null/bool/number/string as scalars (integers
// past int64 as floats), objects and arrays as kJson text. Internal to the query module, which
// links nlohmann::json privately.
#pragma once

#include <nlohmann/json.hpp>

#include <phenix/phenixql.h>

namespace phenix::query {

QueryValue QueryValueFromJson(const nlohmann::json& json);

}  // namespace phenix::query
