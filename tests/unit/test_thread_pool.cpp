// The shared thread pool: parallel_for covers its range once, its tasks run
// side by side on the threads asked for, and a child of fork() (Python's
// multiprocessing, a benchmark's child processes) still gets them all.
#include "common/thread_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

// True when both halves of a two-part parallel_for are running at the same
// time: each waits (up to 10 s) for the other to start.
bool two_tasks_run_together() {
    std::atomic<int> started{0};
    std::atomic<bool> together{true};
    lb::parallel_for(2, 2, 1, [&](int64_t, int64_t) {
        started.fetch_add(1);
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (started.load() < 2)
            if (std::chrono::steady_clock::now() > until) {
                together = false;
                return;
            }
    });
    return together.load();
}

TEST(ThreadPool, ParallelForCoversTheRangeOnce) {
    for (const int threads : {1, 2, 5}) {
        std::vector<std::atomic<int>> seen(1000);
        lb::parallel_for(threads, 1000, 7, [&](int64_t begin, int64_t end) {
            EXPECT_LE(begin, end);
            for (int64_t i = begin; i < end; ++i) seen[static_cast<size_t>(i)].fetch_add(1);
        });
        for (size_t i = 0; i < seen.size(); ++i)
            ASSERT_EQ(seen[i].load(), 1) << threads << " threads, item " << i;
    }
}

TEST(ThreadPool, TasksRunSideBySide) {
    EXPECT_TRUE(two_tasks_run_together());
}

TEST(ThreadPool, AChildOfForkKeepsItsThreads) {
    ASSERT_TRUE(two_tasks_run_together()); // the parent's pool has its worker
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(two_tasks_run_together() ? 0 : 1);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "the child ran its two tasks one after the other";
}

} // namespace
