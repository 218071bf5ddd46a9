#include "common/thread_pool.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <pthread.h>

namespace lb {

// One call of run(): its tasks are claimed one by one by whichever thread
// gets there first. It lives on the caller's stack, so the caller waits until
// no worker holds it any more.
struct ThreadPool::Job {
    const std::function<void(int)> *task;
    int n_tasks;
    std::atomic<int> next{0}; // the next task index to claim
    int users = 0;            // workers holding the job (guarded by the pool's mutex)
    std::condition_variable released;
    std::mutex error_mutex;
    std::exception_ptr error;
};

namespace {

std::atomic<ThreadPool *> g_shared{nullptr};
std::vector<ThreadPool *> *g_retired = nullptr; // pools left behind by fork(), kept reachable

// In a child of fork() only the forking thread exists: the parent's workers
// are gone, and a worker may have held the pool's mutex at the fork. The
// child starts a fresh pool; the old one is left as it is (its threads can be
// neither joined nor detached there).
void fresh_pool_after_fork() {
    g_retired->push_back(g_shared.exchange(new ThreadPool));
}

} // namespace

ThreadPool &ThreadPool::shared() {
    // never destroyed: workers may still be parked when static destructors run
    static const bool installed = [] {
        g_shared.store(new ThreadPool);
        g_retired = new std::vector<ThreadPool *>;
        pthread_atfork(nullptr, nullptr, fresh_pool_after_fork);
        return true;
    }();
    (void)installed;
    return *g_shared.load();
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread &t : threads_) t.join();
}

int ThreadPool::workers() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<int>(threads_.size());
}

void ThreadPool::grow(int n) {
    // called with mutex_ held
    n = std::min(n, kMaxWorkers);
    while (static_cast<int>(threads_.size()) < n) threads_.emplace_back([this] { work(); });
}

bool ThreadPool::run_one(Job &job) {
    const int i = job.next.fetch_add(1);
    if (i >= job.n_tasks) return false;
    try {
        (*job.task)(i);
    } catch (...) {
        std::lock_guard<std::mutex> lock(job.error_mutex);
        if (!job.error) job.error = std::current_exception();
    }
    return true;
}

void ThreadPool::work() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (stopping_) return;
        Job *job = jobs_.front();
        ++job->users;
        lock.unlock();
        while (run_one(*job)) {
        }
        lock.lock();
        // every task is claimed: the job leaves the queue
        const auto it = std::find(jobs_.begin(), jobs_.end(), job);
        if (it != jobs_.end()) jobs_.erase(it);
        if (--job->users == 0) job->released.notify_all();
    }
}

void ThreadPool::run(int n_tasks, const std::function<void(int)> &task) {
    if (n_tasks <= 0) return;
    if (n_tasks == 1) {
        task(0);
        return;
    }
    Job job;
    job.task = &task;
    job.n_tasks = n_tasks;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        grow(n_tasks - 1);
        jobs_.push_back(&job);
    }
    for (int i = 1; i < n_tasks; ++i) wake_.notify_one();
    while (run_one(job)) {
    }
    {
        // no task is left to claim; once no worker holds the job, every
        // claimed task has returned
        std::unique_lock<std::mutex> lock(mutex_);
        const auto it = std::find(jobs_.begin(), jobs_.end(), &job);
        if (it != jobs_.end()) jobs_.erase(it);
        job.released.wait(lock, [&] { return job.users == 0; });
    }
    if (job.error) std::rethrow_exception(job.error);
}

int hardware_threads() {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

void parallel_for(int n_threads, int64_t n, int64_t min_chunk,
                  const std::function<void(int64_t, int64_t)> &fn) {
    if (n <= 0) return;
    min_chunk = std::max<int64_t>(1, min_chunk);
    const int64_t max_parts = (n + min_chunk - 1) / min_chunk;
    const int parts = static_cast<int>(std::min<int64_t>(std::max(1, n_threads), max_parts));
    ThreadPool::shared().run(parts, [&](int part) { fn(n * part / parts, n * (part + 1) / parts); });
}

} // namespace lb
