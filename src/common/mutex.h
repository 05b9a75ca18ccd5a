// Mutex, SharedMutex, MutexLock, ReaderLock, WriterLock and CondVar: std::mutex,
// std::shared_mutex and std::condition_variable_any with clang's thread-safety
// annotations (Abseil's Mutex model), so `-Wthread-safety` checks that every member
// marked GL_GUARDED_BY(mu_) is touched only with mu_ held and that every function marked
// GL_REQUIRES(mu_) is called with it. The clang builds (make test-tsan, make fuzz) turn
// the analysis on as errors; under GCC the annotations expand to nothing.
// Thread-safe, as the standard types they wrap.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#include "common/time.h"

#if defined(__clang__)
#define GL_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define GL_THREAD_ANNOTATION(x)
#endif

#define GL_CAPABILITY(x) GL_THREAD_ANNOTATION(capability(x))
#define GL_SCOPED_CAPABILITY GL_THREAD_ANNOTATION(scoped_lockable)
#define GL_GUARDED_BY(x) GL_THREAD_ANNOTATION(guarded_by(x))
#define GL_PT_GUARDED_BY(x) GL_THREAD_ANNOTATION(pt_guarded_by(x))
#define GL_ACQUIRED_BEFORE(...) GL_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define GL_REQUIRES(...) GL_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define GL_REQUIRES_SHARED(...) GL_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define GL_ACQUIRE(...) GL_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define GL_ACQUIRE_SHARED(...) GL_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define GL_RELEASE(...) GL_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define GL_RELEASE_SHARED(...) GL_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define GL_RELEASE_GENERIC(...) GL_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define GL_EXCLUDES(...) GL_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define GL_NO_THREAD_SAFETY_ANALYSIS GL_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace gpuledger {

class GL_CAPABILITY("mutex") Mutex {
 public:
  void Lock() GL_ACQUIRE() { mu_.lock(); }
  void Unlock() GL_RELEASE() { mu_.unlock(); }
  // BasicLockable, for CondVar's std::condition_variable_any.
  void lock() GL_ACQUIRE() { mu_.lock(); }
  void unlock() GL_RELEASE() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

// Many readers or one writer.
class GL_CAPABILITY("mutex") SharedMutex {
 public:
  void Lock() GL_ACQUIRE() { mu_.lock(); }
  void Unlock() GL_RELEASE() { mu_.unlock(); }
  void ReaderLock() GL_ACQUIRE_SHARED() { mu_.lock_shared(); }
  void ReaderUnlock() GL_RELEASE_SHARED() { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
};

class GL_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) GL_ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() GL_RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

class GL_SCOPED_CAPABILITY WriterLock {
 public:
  explicit WriterLock(SharedMutex& mu) GL_ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~WriterLock() GL_RELEASE() { mu_.Unlock(); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  SharedMutex& mu_;
};

class GL_SCOPED_CAPABILITY ReaderLock {
 public:
  explicit ReaderLock(SharedMutex& mu) GL_ACQUIRE_SHARED(mu) : mu_(mu) { mu_.ReaderLock(); }
  ~ReaderLock() GL_RELEASE() { mu_.ReaderUnlock(); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  SharedMutex& mu_;
};

// Waits release `mu` while blocked and hold it again when they return.
class CondVar {
 public:
  void NotifyAll() { cv_.notify_all(); }
  void NotifyOne() { cv_.notify_one(); }
  template <class Pred>
  void Wait(Mutex& mu, Pred pred) GL_REQUIRES(mu) {
    cv_.wait(mu, pred);
  }
  // Until notified (or a spurious wake-up): for waits that check their own condition.
  void WaitOnce(Mutex& mu) GL_REQUIRES(mu) { cv_.wait(mu); }
  // False when `ms` passed with pred still false.
  template <class Pred>
  bool WaitFor(Mutex& mu, DurationMs ms, Pred pred) GL_REQUIRES(mu) {
    return cv_.wait_for(mu, std::chrono::milliseconds(ms), pred);
  }

 private:
  std::condition_variable_any cv_;
};

}  // namespace gpuledger
