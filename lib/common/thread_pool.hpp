// A persistent pool of worker threads, shared by everything in the process
// that splits work (the quantizer, sessions, synthetic models): threads are
// started once, on first need, not on every call.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lb {

class ThreadPool {
  public:
    // The process-wide pool. A child of fork() gets a pool of its own (the
    // parent's workers do not exist there), so the child keeps every thread.
    static ThreadPool &shared();

    ThreadPool() = default;
    ~ThreadPool();
    ThreadPool(const ThreadPool &) = delete;
    ThreadPool &operator=(const ThreadPool &) = delete;

    // Calls task(i) for every i in [0, n_tasks), on up to n_tasks threads:
    // the calling thread and pool workers (started as needed, up to
    // kMaxWorkers). Returns when all calls have returned; the first exception
    // one threw is then rethrown. Safe to call from several threads at once
    // (their tasks share the workers) and from inside a task (the inner call
    // runs on the threads that are free, at least the caller).
    void run(int n_tasks, const std::function<void(int)> &task);

    // Workers started so far.
    int workers() const;

    static constexpr int kMaxWorkers = 1023;

  private:
    struct Job;
    void grow(int n);
    void work();
    static bool run_one(Job &job);

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job *> jobs_;
    std::vector<std::thread> threads_;
    bool stopping_ = false;
};

// Number of hardware threads (at least 1).
int hardware_threads();

// Calls fn(begin, end) on contiguous, disjoint ranges that cover [0, n),
// using up to n_threads threads of the shared pool (the calling thread is
// one of them). Ranges are at least min_chunk items long. The first
// exception thrown by any call is rethrown after all calls have finished.
void parallel_for(int n_threads, int64_t n, int64_t min_chunk,
                  const std::function<void(int64_t, int64_t)> &fn);

} // namespace lb
