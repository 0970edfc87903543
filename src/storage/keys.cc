// SPDX-License-Identifier: Apache-2.0
#include "storage/keys.h"

#include "common/coding.h"

namespace phenix::storage {

using coding::DecodeFixed32BE;
using coding::DecodeFixed64BE;
using coding::PutFixed32BE;
using coding::PutFixed64BE;

std::string CollectionPrefix(TenantId tenant, CollectionId collection) {
    std::string key;
    key.reserve(kCollectionPrefixBytes);
    PutFixed32BE(key, tenant);
    PutFixed32BE(key, collection);
    return key;
}

std::string PrefixSuccessor(std::string_view prefix) {
    std::string out(prefix);
    while (!out.empty()) {
        auto last = static_cast<unsigned char>(out.back());
        if (last != 0xff) {
            out.back() = static_cast<char>(last + 1);
            return out;
        }
        out.pop_back();
    }
    return out;  // every byte was 0xff: no successor; empty means "unbounded"
}

std::string EntityKey(TenantId tenant, CollectionId collection, RowId row) {
    std::string key = CollectionPrefix(tenant, collection);
    PutFixed64BE(key, row);
    return key;
}

RowId RowFromEntityKey(std::string_view key) {
    return DecodeFixed64BE(key.data() + kCollectionPrefixBytes);
}

std::string MetaIndexPrefix(TenantId tenant, CollectionId collection, IndexId index) {
    std::string key = CollectionPrefix(tenant, collection);
    PutFixed32BE(key, index);
    return key;
}

RowId RowFromMetaIndexKey(std::string_view key) {
    return DecodeFixed64BE(key.data() + key.size() - 8);
}

std::string IdKey(TenantId tenant, CollectionId collection, std::string_view external_id) {
    std::string key = CollectionPrefix(tenant, collection);
    key.append(external_id);
    return key;
}

std::string_view ExternalIdFromIdKey(std::string_view key) {
    return key.substr(kCollectionPrefixBytes);
}

std::string EdgeRowPrefix(TenantId tenant, CollectionId collection, RowId row) {
    return EntityKey(tenant, collection, row);
}

void AppendEdgeKey(std::string& out, TenantId tenant, CollectionId collection, RowId row,
                   std::string_view label, CollectionId other_collection, RowId other_row) {
    PutFixed32BE(out, tenant);
    PutFixed32BE(out, collection);
    PutFixed64BE(out, row);
    // The label is terminated by a NUL byte (labels never contain control characters), so edges
    // of one entity sort by label, then by target, and one label's edges are a key range.
    out.append(label);
    out.push_back('\0');
    PutFixed32BE(out, other_collection);
    PutFixed64BE(out, other_row);
}

std::string EncodeEdgeKey(const EdgeKey& key) {
    std::string out;
    out.reserve(kRowPrefixBytes + key.label.size() + 1 + 4 + 8);
    AppendEdgeKey(out, key.tenant, key.collection, key.row, key.label, key.other_collection,
                  key.other_row);
    return out;
}

bool DecodeEdgeKey(std::string_view encoded, EdgeKey& out) {
    constexpr std::size_t kTailBytes = 1 + 4 + 8;  // terminator, other collection, other row
    if (encoded.size() < kRowPrefixBytes + kTailBytes) {
        return false;
    }
    const std::size_t label_len = encoded.size() - kRowPrefixBytes - kTailBytes;
    std::string_view label = encoded.substr(kRowPrefixBytes, label_len);
    if (encoded[kRowPrefixBytes + label_len] != '\0' ||
        label.find('\0') != std::string_view::npos) {
        return false;
    }
    out.tenant = DecodeFixed32BE(encoded.data());
    out.collection = DecodeFixed32BE(encoded.data() + 4);
    out.row = DecodeFixed64BE(encoded.data() + 8);
    out.label.assign(label);
    const char* tail = encoded.data() + kRowPrefixBytes + label_len + 1;
    out.other_collection = DecodeFixed32BE(tail);
    out.other_row = DecodeFixed64BE(tail + 4);
    return true;
}

bool DecodeEdgeKeyView(std::string_view encoded, EdgeKeyView& out) {
    constexpr std::size_t kTailBytes = 1 + 4 + 8;  // terminator, other collection, other row
    if (encoded.size() < kRowPrefixBytes + kTailBytes) {
        return false;
    }
    const std::size_t label_len = encoded.size() - kRowPrefixBytes - kTailBytes;
    const std::string_view label = encoded.substr(kRowPrefixBytes, label_len);
    if (encoded[kRowPrefixBytes + label_len] != '\0' ||
        label.find('\0') != std::string_view::npos) {
        return false;
    }
    out.label = label;
    const char* tail = encoded.data() + kRowPrefixBytes + label_len + 1;
    out.other_collection = DecodeFixed32BE(tail);
    out.other_row = DecodeFixed64BE(tail + 4);
    return true;
}

EdgeKey MirrorEdgeKey(const EdgeKey& key) {
    EdgeKey m = key;
    m.collection = key.other_collection;
    m.row = key.other_row;
    m.other_collection = key.collection;
    m.other_row = key.row;
    return m;
}

}  // namespace phenix::storage
