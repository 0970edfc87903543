// SPDX-License-Identifier: Apache-2.0
//
// Byte encodings used by persisted formats: big-endian fixed-width integers (order-preserving in
// keys), little-endian fixed-width values and LEB128 varints (in values), and a bounds-checked
// reader. Every persisted integer is fixed-width or a varint; nothing depends on host layout.
//
// Thread safety: free functions; a ByteReader is confined to one thread.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace phenix::coding {

inline void PutFixed32BE(std::string& dst, std::uint32_t v) {
    char buf[4];
    for (int i = 3; i >= 0; --i) {
        buf[i] = static_cast<char>(v & 0xffu);
        v >>= 8;
    }
    dst.append(buf, sizeof(buf));
}

inline void PutFixed64BE(std::string& dst, std::uint64_t v) {
    char buf[8];
    for (int i = 7; i >= 0; --i) {
        buf[i] = static_cast<char>(v & 0xffu);
        v >>= 8;
    }
    dst.append(buf, sizeof(buf));
}

inline std::uint32_t DecodeFixed32BE(const char* p) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
        v = (v << 8) | static_cast<std::uint8_t>(p[i]);
    }
    return v;
}

inline std::uint64_t DecodeFixed64BE(const char* p) {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
        v = (v << 8) | static_cast<std::uint8_t>(p[i]);
    }
    return v;
}

inline void PutFixed64LE(std::string& dst, std::uint64_t v) {
    char buf[8];
    for (char& b : buf) {
        b = static_cast<char>(v & 0xffu);
        v >>= 8;
    }
    dst.append(buf, sizeof(buf));
}

inline std::uint64_t DecodeFixed64LE(const char* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) {
        v = (v << 8) | static_cast<std::uint8_t>(p[i]);
    }
    return v;
}

inline void PutDouble(std::string& dst, double d) {
    PutFixed64LE(dst, std::bit_cast<std::uint64_t>(d));
}

inline void PutVarint64(std::string& dst, std::uint64_t v) {
    while (v >= 0x80) {
        dst.push_back(static_cast<char>((v & 0x7f) | 0x80));
        v >>= 7;
    }
    dst.push_back(static_cast<char>(v));
}

/// Length-prefixed bytes: varint length, then the bytes.
inline void PutLengthPrefixed(std::string& dst, std::string_view s) {
    PutVarint64(dst, s.size());
    dst.append(s);
}

/// Appends float32 values in little-endian byte order.
inline void PutFloatsLE(std::string& dst, const float* values, std::size_t count) {
    if constexpr (std::endian::native == std::endian::little) {
        dst.append(reinterpret_cast<const char*>(values), count * sizeof(float));  // NOLINT
    } else {
        for (std::size_t idx = 0; idx < count; ++idx) {
            std::uint32_t bits = std::bit_cast<std::uint32_t>(values[idx]);
            for (int b = 0; b < 4; ++b) {
                dst.push_back(static_cast<char>(bits & 0xffu));
                bits >>= 8;
            }
        }
    }
}

/// Reads the encodings above from a byte range; every read is bounds-checked and returns
/// nullopt/false on truncated or malformed input instead of reading past the end.
class ByteReader {
  public:
    explicit ByteReader(std::string_view data) : data_(data) {}

    [[nodiscard]] bool empty() const { return pos_ == data_.size(); }
    [[nodiscard]] std::size_t remaining() const { return data_.size() - pos_; }

    std::optional<std::uint8_t> ReadByte() {
        if (remaining() < 1) {
            return std::nullopt;
        }
        return static_cast<std::uint8_t>(data_[pos_++]);
    }

    std::optional<std::uint64_t> ReadVarint64() {
        std::uint64_t result = 0;
        for (int shift = 0; shift <= 63; shift += 7) {
            if (pos_ >= data_.size()) {
                return std::nullopt;
            }
            auto byte = static_cast<std::uint8_t>(data_[pos_++]);
            if (shift == 63 && byte > 1) {
                return std::nullopt;  // overflows 64 bits
            }
            result |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
            if ((byte & 0x80) == 0) {
                return result;
            }
        }
        return std::nullopt;
    }

    std::optional<std::string_view> ReadBytes(std::size_t n) {
        if (remaining() < n) {
            return std::nullopt;
        }
        std::string_view out = data_.substr(pos_, n);
        pos_ += n;
        return out;
    }

    std::optional<std::string_view> ReadLengthPrefixed() {
        auto len = ReadVarint64();
        if (!len || *len > remaining()) {
            return std::nullopt;
        }
        return ReadBytes(static_cast<std::size_t>(*len));
    }

    std::optional<double> ReadDouble() {
        auto bytes = ReadBytes(8);
        if (!bytes) {
            return std::nullopt;
        }
        return std::bit_cast<double>(DecodeFixed64LE(bytes->data()));
    }

    /// Reads `count` little-endian float32 values into `out` (which must have room for them).
    bool ReadFloatsLE(float* out, std::size_t count) {
        if (count > remaining() / sizeof(float)) {
            return false;
        }
        if constexpr (std::endian::native == std::endian::little) {
            std::memcpy(out, data_.data() + pos_, count * sizeof(float));
            pos_ += count * sizeof(float);
        } else {
            for (std::size_t idx = 0; idx < count; ++idx) {
                std::uint32_t bits = 0;
                for (int b = 3; b >= 0; --b) {
                    bits = (bits << 8) |
                           static_cast<std::uint8_t>(data_[pos_ + static_cast<std::size_t>(b)]);
                }
                out[idx] = std::bit_cast<float>(bits);
                pos_ += 4;
            }
        }
        return true;
    }

  private:
    std::string_view data_;
    std::size_t pos_ = 0;
};

}  // namespace phenix::coding
