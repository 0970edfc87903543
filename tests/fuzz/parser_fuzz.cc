// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer target for the PhenixQL parser: any bytes must give statements or InvalidArgument,
// never a crash, and whatever parses must print to text that parses back to the same AST.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "query/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    phenix::Result<std::vector<phenix::query::Statement>> result = phenix::query::ParseScript(text);
    if (!result.ok()) {
        if (!result.status().IsInvalidArgument()) {
            std::abort();
        }
        return 0;
    }
    for (const phenix::query::Statement& statement : *result) {
        phenix::Result<phenix::query::Statement> again =
            phenix::query::ParseStatement(phenix::query::ToString(statement));
        if (!again.ok() || !(*again == statement)) {
            std::abort();
        }
    }
    return 0;
}
