// SPDX-License-Identifier: Apache-2.0
//
// A tiny stand-in for libFuzzer's driver, so that the fuzz targets also run in builds without
// libFuzzer (GCC, CI): it feeds LLVMFuzzerTestOneInput every file of a corpus directory, then
// deterministic random mutations of them (bit flips, byte inserts and deletes, copied ranges,
// splices of other inputs, and tokens from a small PhenixQL/JSON dictionary) until a time budget
// or an iteration cap runs out. A target reports a failure by crashing or aborting, as under
// libFuzzer; this driver adds coverage of nothing, but catches regressions on every test run.
//
//   phenix_parser_fuzz_smoke <corpus dir> [seconds = 10] [max mutations = unlimited] [seed = 1]
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

constexpr std::size_t kMaxInputBytes = 4096;

// Packed rows: one token a line would make this table 130 lines long.
// clang-format off
constexpr std::string_view kDictionary[] = {
    // PhenixQL keywords and operators.
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "IS", "NULL", "TRUE", "FALSE", "AS",
    "OF", "ORDER", "BY", "DESC", "ASC", "LIMIT", "WITH", "GROUP", "MATCH", "INSERT", "INTO",
    "VALUES", "UPDATE", "SET", "DELETE", "CREATE", "DROP", "COLLECTION", "COLLECTIONS", "INDEX",
    "ON", "DIMENSION", "METRIC", "SHOW", "DESCRIBE", "BEGIN", "COMMIT", "ROLLBACK", "EXPLAIN",
    "ANALYZE", "COPY", "TO", "ON_ERROR", "(", ")", "[", "]", ",", ";", ".", "..", "*", ":", "=",
    "!=", "<>", "<", "<=", ">", ">=", "<->", "<=>", "<#>", "->", "-", "'", "\"", "$1", "$k",
    "--", "/*", "*/", "-[", "]->", "<-[", "]-", "*1..2", "1e999", "-0.5", "9223372036854775808",
    "distance(", "exists(", "count(*)", "metadata.",
    // The JSON form.
    "{", "}", "\"collection\"", "\"vector\"", "\"metric\"", "\"k\"", "\"filter\"", "\"graph\"",
    "\"ef\"", "\"include\"", "\"from\"", "\"label\"", "\"direction\"", "\"min_hops\"",
    "\"max_hops\"", "\"l2\"", "\"cosine\"", "\"ip\"", "\"in\"", "\"both\"", "\"metadata\"",
    "\"$eq\"", "\"$ne\"", "\"$gt\"", "\"$gte\"", "\"$lt\"", "\"$lte\"", "\"$in\"", "\"$nin\"",
    "\"$exists\"", "\"$and\"", "\"$or\"", "\"$not\"", "true", "false", "null", "1e308",
    "18446744073709551615", "\\u0000", "\\ud800",
};
// clang-format on

std::vector<std::string> ReadCorpus(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> paths;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.is_regular_file()) {
            paths.push_back(entry.path());
        }
    }
    std::sort(paths.begin(), paths.end());  // a fixed order keeps runs reproducible
    std::vector<std::string> inputs;
    for (const auto& path : paths) {
        std::ifstream in(path, std::ios::binary);
        inputs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return inputs;
}

void Run(const std::string& input) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

class Mutator {
  public:
    Mutator(const std::vector<std::string>& corpus, std::uint64_t seed)
        : corpus_(corpus), rng_(seed) {}

    std::string Mutate(std::string input) {
        std::size_t num_steps = Below(4) + 1;
        for (std::size_t step = 0; step < num_steps; ++step) {
            MutateOnce(input);
        }
        if (input.size() > kMaxInputBytes) {
            input.resize(kMaxInputBytes);
        }
        return input;
    }

    const std::string& Pick() { return corpus_[Below(corpus_.size())]; }

  private:
    std::size_t Below(std::size_t bound) {
        return bound == 0 ? 0 : static_cast<std::size_t>(rng_() % bound);
    }

    void MutateOnce(std::string& input) {
        std::size_t pos = Below(input.size() + 1);
        switch (Below(7)) {
            case 0:  // flip a bit
                if (!input.empty()) {
                    std::size_t idx = Below(input.size());
                    input[idx] = static_cast<char>(input[idx] ^ (1 << Below(8)));
                }
                break;
            case 1:  // insert a random byte
                input.insert(pos, 1, static_cast<char>(Below(256)));
                break;
            case 2:  // delete a range
                input.erase(pos, Below(8) + 1);
                break;
            case 3:  // overwrite with or insert a dictionary token
            case 4: {
                std::string_view token = kDictionary[Below(std::size(kDictionary))];
                if (Below(2) == 0) {
                    input.insert(pos, token);
                } else {
                    input.replace(pos, token.size(), token);
                }
                break;
            }
            case 5: {  // splice: a piece of another input replaces the tail
                const std::string& other = Pick();
                std::size_t from = Below(other.size() + 1);
                input = input.substr(0, pos) + other.substr(from, Below(other.size() - from + 1));
                break;
            }
            default: {  // copy a range of the input elsewhere in it
                std::size_t from = Below(input.size() + 1);
                std::string piece = input.substr(from, Below(16) + 1);
                input.insert(Below(input.size() + 1), piece);
                break;
            }
        }
    }

    const std::vector<std::string>& corpus_;
    std::mt19937_64 rng_;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s <corpus dir> [seconds] [max mutations] [seed]\n", argv[0]);
        return 2;
    }
    double seconds = argc > 2 ? std::atof(argv[2]) : 10.0;
    long long max_mutations = argc > 3 ? std::atoll(argv[3]) : -1;
    std::uint64_t seed = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 1;

    std::vector<std::string> corpus = ReadCorpus(argv[1]);
    if (corpus.empty()) {
        std::fprintf(stderr, "no corpus files in %s\n", argv[1]);
        return 2;
    }
    for (const std::string& input : corpus) {
        Run(input);
    }
    std::printf("%zu corpus inputs ok; mutating with seed %llu for %.1f s\n", corpus.size(),
                static_cast<unsigned long long>(seed), seconds);
    std::fflush(stdout);

    Mutator mutator(corpus, seed);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    long long num_runs = 0;
    std::string last = corpus[0];
    while (max_mutations < 0 || num_runs < max_mutations) {
        // Check the clock every 64 runs; mutations are microseconds each.
        if (num_runs % 64 == 0 && std::chrono::steady_clock::now() >= deadline) {
            break;
        }
        // Mostly mutate a corpus input; sometimes keep mutating the previous one, to go deeper.
        std::string base = (num_runs % 4 == 3) ? last : mutator.Pick();
        last = mutator.Mutate(std::move(base));
        Run(last);
        ++num_runs;
    }
    std::printf("%lld mutated inputs ok\n", num_runs);
    return 0;
}
