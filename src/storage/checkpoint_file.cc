// SPDX-License-Identifier: Apache-2.0
#include "storage/checkpoint_file.h"

#include <xxhash.h>

#include <cstring>
#include <filesystem>

#include <rocksdb/file_system.h>

#include "storage/store.h"

namespace phenix::storage {

namespace {

constexpr std::size_t kBufferBytes = 1 << 20;

rocksdb::FileSystem* OrDefault(rocksdb::FileSystem* fs) {
    return fs != nullptr ? fs : rocksdb::FileSystem::Default().get();
}

std::string ParentDir(const std::string& path) {
    const std::string dir = std::filesystem::path(path).parent_path().string();
    return dir.empty() ? "." : dir;
}

}  // namespace

CheckpointWriter::CheckpointWriter(rocksdb::FileSystem* fs, std::string path,
                                   std::unique_ptr<rocksdb::FSWritableFile> file)
    : fs_(fs),
      path_(std::move(path)),
      tmp_path_(path_ + ".tmp"),
      file_(std::move(file)),
      hash_state_(XXH3_createState()) {
    XXH3_64bits_reset(static_cast<XXH3_state_t*>(hash_state_));
    buffer_.reserve(kBufferBytes);
}

CheckpointWriter::~CheckpointWriter() {
    XXH3_freeState(static_cast<XXH3_state_t*>(hash_state_));
    if (!committed_) {
        if (file_) {
            file_->Close(rocksdb::IOOptions(), nullptr).PermitUncheckedError();
        }
        fs_->DeleteFile(tmp_path_, rocksdb::IOOptions(), nullptr).PermitUncheckedError();
    }
}

Result<std::unique_ptr<CheckpointWriter>> CheckpointWriter::Create(rocksdb::FileSystem* fs,
                                                                   std::string path) {
    fs = OrDefault(fs);
    const rocksdb::IOOptions io;
    PHENIX_RETURN_IF_ERROR(FromRocks(fs->CreateDirIfMissing(ParentDir(path), io, nullptr),
                                     "cannot create the directory of checkpoint '" + path + "'"));
    std::unique_ptr<rocksdb::FSWritableFile> file;
    PHENIX_RETURN_IF_ERROR(
        FromRocks(fs->NewWritableFile(path + ".tmp", rocksdb::FileOptions(), &file, nullptr),
                  "cannot create checkpoint '" + path + ".tmp'"));
    return std::unique_ptr<CheckpointWriter>(
        new CheckpointWriter(fs, std::move(path), std::move(file)));
}

void CheckpointWriter::Write(const void* data, std::size_t n) {
    XXH3_64bits_update(static_cast<XXH3_state_t*>(hash_state_), data, n);
    if (!error_.ok()) {
        return;
    }
    const auto* p = static_cast<const char*>(data);
    if (buffer_.size() + n > kBufferBytes) {
        Flush();
    }
    if (n >= kBufferBytes) {
        if (error_.ok()) {
            error_ = FromRocks(file_->Append(rocksdb::Slice(p, n), rocksdb::IOOptions(), nullptr),
                               "cannot write checkpoint '" + tmp_path_ + "'");
        }
        return;
    }
    buffer_.insert(buffer_.end(), p, p + n);
}

void CheckpointWriter::Flush() {
    if (buffer_.empty() || !error_.ok()) {
        buffer_.clear();
        return;
    }
    error_ = FromRocks(file_->Append(rocksdb::Slice(buffer_.data(), buffer_.size()),
                                     rocksdb::IOOptions(), nullptr),
                       "cannot write checkpoint '" + tmp_path_ + "'");
    buffer_.clear();
}

Status CheckpointWriter::Commit() {
    if (committed_) {
        return Status::FailedPrecondition("checkpoint '" + path_ + "' was already committed");
    }
    const std::uint64_t hash = XXH3_64bits_digest(static_cast<XXH3_state_t*>(hash_state_));
    const auto* p = reinterpret_cast<const char*>(&hash);
    buffer_.insert(buffer_.end(), p, p + sizeof(hash));
    Flush();
    const rocksdb::IOOptions io;
    const std::string context = "cannot write checkpoint '" + tmp_path_ + "'";
    PHENIX_RETURN_IF_ERROR(error_);
    PHENIX_RETURN_IF_ERROR(FromRocks(file_->Sync(io, nullptr), context));
    PHENIX_RETURN_IF_ERROR(FromRocks(file_->Close(io, nullptr), context));
    file_.reset();
    PHENIX_RETURN_IF_ERROR(FromRocks(fs_->RenameFile(tmp_path_, path_, io, nullptr),
                                     "cannot rename checkpoint to '" + path_ + "'"));
    committed_ = true;  // the temp file is gone: nothing to clean up any more
    std::unique_ptr<rocksdb::FSDirectory> dir;
    const std::string dir_path = ParentDir(path_);
    PHENIX_RETURN_IF_ERROR(FromRocks(fs_->NewDirectory(dir_path, io, &dir, nullptr),
                                     "cannot open directory '" + dir_path + "'"));
    return FromRocks(dir->Fsync(io, nullptr), "cannot sync directory '" + dir_path + "'");
}

Result<std::string> ReadCheckpointFile(rocksdb::FileSystem* fs, const std::string& path) {
    fs = OrDefault(fs);
    const rocksdb::IOOptions io;
    std::uint64_t size = 0;
    const rocksdb::IOStatus sized = fs->GetFileSize(path, io, &size, nullptr);
    if (sized.IsNotFound() || (sized.IsIOError() && !std::filesystem::exists(path))) {
        return Status::NotFound("no checkpoint at '" + path + "'");
    }
    PHENIX_RETURN_IF_ERROR(FromRocks(sized, "cannot size checkpoint '" + path + "'"));
    std::unique_ptr<rocksdb::FSSequentialFile> file;
    PHENIX_RETURN_IF_ERROR(
        FromRocks(fs->NewSequentialFile(path, rocksdb::FileOptions(), &file, nullptr),
                  "cannot open checkpoint '" + path + "'"));
    std::string data(size, '\0');
    std::size_t got = 0;
    while (got < size) {
        rocksdb::Slice chunk;
        PHENIX_RETURN_IF_ERROR(
            FromRocks(file->Read(size - got, io, &chunk, data.data() + got, nullptr),
                      "cannot read checkpoint '" + path + "'"));
        if (chunk.empty()) {
            break;
        }
        if (chunk.data() != data.data() + got) {
            std::memmove(data.data() + got, chunk.data(), chunk.size());
        }
        got += chunk.size();
    }
    data.resize(got);
    if (data.size() < sizeof(std::uint64_t)) {
        return Status::Corruption("checkpoint '" + path + "' is truncated");
    }
    std::uint64_t stored = 0;
    std::memcpy(&stored, data.data() + data.size() - sizeof(stored), sizeof(stored));
    data.resize(data.size() - sizeof(stored));
    if (XXH3_64bits(data.data(), data.size()) != stored) {
        return Status::Corruption("checkpoint '" + path + "' has a bad checksum");
    }
    return data;
}

Status RemoveCheckpointFile(rocksdb::FileSystem* fs, const std::string& path) {
    fs = OrDefault(fs);
    const rocksdb::IOStatus s = fs->DeleteFile(path, rocksdb::IOOptions(), nullptr);
    if (s.ok() || s.IsNotFound() || !std::filesystem::exists(path)) {
        return Status::Ok();
    }
    return FromRocks(s, "cannot remove checkpoint '" + path + "'");
}

}  // namespace phenix::storage
