// SPDX-License-Identifier: Apache-2.0
#include "common/commit_timing.h"

namespace phenix {

namespace {

constinit thread_local CommitObserver* t_observer = nullptr;
constinit thread_local CommitTiming* t_recording = nullptr;

}  // namespace

CommitObserver* CurrentCommitObserver() {
    return t_observer;
}

CommitTiming* CurrentCommitRecording() {
    return t_recording;
}

CommitObserverScope::CommitObserverScope(CommitObserver* observer) : previous_(t_observer) {
    t_observer = observer;
}

CommitObserverScope::~CommitObserverScope() {
    t_observer = previous_;
}

CommitRecorder::CommitRecorder() : observer_(t_observer) {
    if (observer_ != nullptr) {
        previous_ = t_recording;
        t_recording = &timing_;
        timing_.start = CommitTiming::Clock::now();
    }
}

CommitRecorder::~CommitRecorder() {
    if (observer_ == nullptr) {
        return;
    }
    t_recording = previous_;
    if (timing_.reached) {
        if (timing_.end == CommitTiming::Clock::time_point{}) {
            timing_.end = CommitTiming::Clock::now();
        }
        observer_->OnCommit(timing_);
    }
}

}  // namespace phenix
