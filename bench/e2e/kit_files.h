// SPDX-License-Identifier: Apache-2.0
//
// Readers for the benchmark data kit (../shared/bench/README.md, "Output layout"): TEXMEX
// .fvecs/.ivecs matrices, meta.jsonl lines, and edges.tsv as an edge list and as CSR adjacency
// (offsets + targets) in either direction. Header-only, standard library only; errors are
// thrown as KitError (the drivers turn them into exit status 2).
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace phenix::bench_kit {

/// A missing or malformed data file.
class KitError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

inline constexpr std::int32_t kMaxKitDimension = 65536;

template <typename T>
struct Matrix {
    std::size_t rows = 0;
    std::size_t dim = 0;
    std::vector<T> values;

    [[nodiscard]] std::span<const T> Row(std::size_t row) const {
        return {values.data() + row * dim, dim};
    }
};

/// Reads a TEXMEX .fvecs/.ivecs file (per row an int32 dimension, then that many 4-byte values).
template <typename T>
Matrix<T> ReadVecs(const std::string& path) {
    static_assert(sizeof(T) == 4);
    std::error_code ec;
    const auto file_bytes = std::filesystem::file_size(path, ec);
    if (ec) {
        throw KitError("cannot read " + path + ": " + ec.message() +
                       " (generate the set with shared/bench/make_vectors.py)");
    }
    std::ifstream in(path, std::ios::binary);
    std::int32_t dim = 0;
    if (!in || !in.read(reinterpret_cast<char*>(&dim), sizeof dim) || dim <= 0 ||
        dim > kMaxKitDimension) {
        throw KitError(path + ": malformed (bad or missing dimension in the first row)");
    }
    const auto row_bytes = static_cast<std::uintmax_t>(4 + 4 * dim);
    if (file_bytes % row_bytes != 0) {
        throw KitError(path + ": malformed (not a whole number of rows)");
    }
    Matrix<T> out;
    out.dim = static_cast<std::size_t>(dim);
    out.rows = static_cast<std::size_t>(file_bytes / row_bytes);
    out.values.resize(out.rows * out.dim);
    const auto value_bytes = static_cast<std::streamsize>(out.dim * sizeof(T));
    for (std::size_t row = 0; row < out.rows; ++row) {
        std::int32_t row_dim = dim;
        if (row > 0 && !in.read(reinterpret_cast<char*>(&row_dim), sizeof row_dim)) {
            throw KitError(path + ": truncated at row " + std::to_string(row));
        }
        if (row_dim != dim) {
            throw KitError(path + ": row " + std::to_string(row) + " has another dimension");
        }
        if (!in.read(reinterpret_cast<char*>(out.values.data() + row * out.dim), value_bytes)) {
            throw KitError(path + ": truncated at row " + std::to_string(row));
        }
    }
    return out;
}

/// Writes a TEXMEX .fvecs/.ivecs file.
template <typename T>
void WriteVecs(const std::string& path, const Matrix<T>& matrix) {
    static_assert(sizeof(T) == 4);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    const auto dim = static_cast<std::int32_t>(matrix.dim);
    for (std::size_t row = 0; row < matrix.rows; ++row) {
        out.write(reinterpret_cast<const char*>(&dim), sizeof dim);
        out.write(reinterpret_cast<const char*>(matrix.Row(row).data()),
                  static_cast<std::streamsize>(matrix.dim * sizeof(T)));
    }
    if (!out) {
        throw KitError("cannot write " + path);
    }
}

/// The whole file as text.
inline std::string ReadText(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw KitError("cannot read " + path);
    }
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Non-empty lines of a text file (meta.jsonl: line i = the metadata of id i), at most
/// `max_lines` (0: all).
inline std::vector<std::string> ReadLines(const std::string& path, std::size_t max_lines = 0) {
    std::ifstream in(path);
    if (!in) {
        throw KitError("cannot read " + path);
    }
    std::vector<std::string> out;
    std::string line;
    while ((max_lines == 0 || out.size() < max_lines) && std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (!line.empty()) {
            out.push_back(std::move(line));
        }
    }
    return out;
}

/// edges.tsv: header `src dst rel weight`, one directed edge per line, sorted by src.
struct EdgeList {
    std::vector<std::uint32_t> src;
    std::vector<std::uint32_t> dst;
    std::vector<std::uint8_t> rel;
    std::vector<double> weight;

    [[nodiscard]] std::size_t size() const { return src.size(); }
};

namespace detail {

template <typename T>
T ParseField(std::string_view& rest, char separator, const std::string& path, std::size_t line) {
    const auto end = rest.find(separator);
    const std::string_view field = rest.substr(0, end);
    T value{};
    const auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
    if (ec != std::errc() || ptr != field.data() + field.size() || field.empty()) {
        throw KitError(path + ": line " + std::to_string(line) + ": bad field '" +
                       std::string(field) + "'");
    }
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    return value;
}

}  // namespace detail

/// Reads edges.tsv; every endpoint must be < `num_nodes` (when non-zero).
inline EdgeList ReadEdges(const std::string& path, std::size_t num_nodes = 0) {
    const std::string text = ReadText(path);
    EdgeList out;
    std::string_view rest = text;
    std::size_t line_no = 0;
    const std::size_t estimate = text.size() / 20;
    out.src.reserve(estimate);
    out.dst.reserve(estimate);
    out.rel.reserve(estimate);
    out.weight.reserve(estimate);
    while (!rest.empty()) {
        const auto newline = rest.find('\n');
        std::string_view line = rest.substr(0, newline);
        rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
        ++line_no;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line.empty()) {
            continue;
        }
        if (line_no == 1) {
            if (!line.starts_with("src")) {
                throw KitError(path + ": expected the header 'src dst rel weight'");
            }
            continue;
        }
        const auto src = detail::ParseField<std::uint32_t>(line, '\t', path, line_no);
        const auto dst = detail::ParseField<std::uint32_t>(line, '\t', path, line_no);
        const auto rel = detail::ParseField<std::uint32_t>(line, '\t', path, line_no);
        const auto weight = detail::ParseField<double>(line, '\t', path, line_no);
        if (num_nodes != 0 && (src >= num_nodes || dst >= num_nodes)) {
            throw KitError(path + ": line " + std::to_string(line_no) + ": node out of range");
        }
        out.src.push_back(src);
        out.dst.push_back(dst);
        out.rel.push_back(static_cast<std::uint8_t>(rel));
        out.weight.push_back(weight);
    }
    return out;
}

/// Compressed sparse rows: the neighbours of node v are targets[offsets[v] .. offsets[v+1]),
/// with edge_index[i] the row of that edge in the EdgeList (for its rel and weight).
struct Csr {
    std::vector<std::uint64_t> offsets;
    std::vector<std::uint32_t> targets;
    std::vector<std::uint32_t> edge_index;

    [[nodiscard]] std::size_t num_nodes() const { return offsets.empty() ? 0 : offsets.size() - 1; }
    [[nodiscard]] std::size_t Degree(std::uint32_t node) const {
        return static_cast<std::size_t>(offsets[node + 1] - offsets[node]);
    }
    [[nodiscard]] std::span<const std::uint32_t> Neighbours(std::uint32_t node) const {
        return {targets.data() + offsets[node], Degree(node)};
    }
    [[nodiscard]] std::span<const std::uint32_t> EdgeRows(std::uint32_t node) const {
        return {edge_index.data() + offsets[node], Degree(node)};
    }
};

/// Out-adjacency (src -> dst), or in-adjacency (dst -> src) when `reverse`; stable: the
/// neighbours keep the file order.
inline Csr BuildCsr(const EdgeList& edges, std::size_t num_nodes, bool reverse) {
    const auto& from = reverse ? edges.dst : edges.src;
    const auto& to = reverse ? edges.src : edges.dst;
    Csr csr;
    csr.offsets.assign(num_nodes + 1, 0);
    for (const std::uint32_t node : from) {
        ++csr.offsets[node + 1];
    }
    for (std::size_t node = 0; node < num_nodes; ++node) {
        csr.offsets[node + 1] += csr.offsets[node];
    }
    csr.targets.resize(edges.size());
    csr.edge_index.resize(edges.size());
    std::vector<std::uint64_t> next(csr.offsets.begin(), csr.offsets.end() - 1);
    for (std::size_t row = 0; row < edges.size(); ++row) {
        const auto slot = next[from[row]]++;
        csr.targets[slot] = to[row];
        csr.edge_index[slot] = static_cast<std::uint32_t>(row);
    }
    return csr;
}

}  // namespace phenix::bench_kit
