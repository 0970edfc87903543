// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer target for the JSON form of PhenixQL: any bytes must give a statement or
// InvalidArgument, never a crash or an exception, and a statement must print to PhenixQL text
// that parses back to the same AST (the JSON form and its text twin are one logical plan).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "query/json_query.h"
#include "query/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    phenix::Result<phenix::query::Statement> result = phenix::query::ParseJsonQuery(text);
    if (!result.ok()) {
        if (!result.status().IsInvalidArgument()) {
            std::abort();
        }
        return 0;
    }
    phenix::Result<phenix::query::Statement> again =
        phenix::query::ParseStatement(phenix::query::ToString(*result));
    if (!again.ok() || !(*again == *result)) {
        std::abort();
    }
    return 0;
}
