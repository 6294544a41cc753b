// Allocation without the heap for a connection's steady state.
//
// A warm announce must not allocate (issue 4; tests/net/alloc_test.cc checks
// it). Two things in a Beast/Asio session otherwise do, per request:
//  - Asio allocates each pending operation (a read, a write). Its per-thread
//    cache keeps one block, which every session and the worker's acceptor
//    and deadline sweep compete for, so with more than one operation pending
//    on a worker some miss it. HandlerMemory gives each session a few fixed
//    slots instead (sessions are pooled, so they too are reused); completion
//    handlers wrapped by bind_memory() make Asio (and Beast's composed
//    operations, which inherit the handler's allocator) use them.
//  - Beast's header container allocates every field and the request target.
//    RequestArena is a bump allocator over a buffer the session owns, reset
//    before each request; ArenaAllocator plugs it into basic_fields.
// Both fall back to the heap when a request is unusually large, so nothing
// fails; it only costs an allocation. Not thread-safe: a session's handlers
// run one at a time on its worker.
#pragma once

#include <array>
#include <cstddef>
#include <new>
#include <utility>

namespace p2p::net {

class HandlerMemory {
 public:
  // Sized for Beast's read-header chain over a socket, the largest operation
  // we start; measured at well under this with Boost 1.74.
  static constexpr std::size_t kSlotSize = 1024;
  static constexpr int kSlots = 3;  // the socket operation, and spares

  HandlerMemory() = default;
  HandlerMemory(const HandlerMemory&) = delete;
  HandlerMemory& operator=(const HandlerMemory&) = delete;

  void* allocate(std::size_t size) {
    if (size <= kSlotSize) {
      for (int i = 0; i < kSlots; ++i) {
        if (!used_[i]) {
          used_[i] = true;
          return slots_[i].data();
        }
      }
    }
    return ::operator new(size);
  }

  void deallocate(void* p) {
    for (int i = 0; i < kSlots; ++i) {
      if (p == slots_[i].data()) {
        used_[i] = false;
        return;
      }
    }
    ::operator delete(p);
  }

 private:
  alignas(std::max_align_t) std::array<std::array<unsigned char, kSlotSize>, kSlots> slots_;
  std::array<bool, kSlots> used_{};
};

template <class T>
class HandlerAllocator {
 public:
  using value_type = T;
  explicit HandlerAllocator(HandlerMemory& m) : memory_(&m) {}
  template <class U>
  HandlerAllocator(const HandlerAllocator<U>& other) noexcept : memory_(other.memory_) {}
  T* allocate(std::size_t n) { return static_cast<T*>(memory_->allocate(sizeof(T) * n)); }
  void deallocate(T* p, std::size_t) { memory_->deallocate(p); }
  template <class U>
  bool operator==(const HandlerAllocator<U>& o) const noexcept {
    return memory_ == o.memory_;
  }
  template <class U>
  bool operator!=(const HandlerAllocator<U>& o) const noexcept {
    return memory_ != o.memory_;
  }

 private:
  template <class>
  friend class HandlerAllocator;
  HandlerMemory* memory_;
};

// A completion handler that tells Asio to allocate from `memory`.
template <class Handler>
class MemoryBoundHandler {
 public:
  using allocator_type = HandlerAllocator<void>;
  MemoryBoundHandler(HandlerMemory& m, Handler h) : memory_(m), handler_(std::move(h)) {}
  allocator_type get_allocator() const noexcept { return allocator_type(memory_); }
  template <class... Args>
  void operator()(Args&&... args) {
    handler_(std::forward<Args>(args)...);
  }

 private:
  HandlerMemory& memory_;
  Handler handler_;
};

template <class Handler>
MemoryBoundHandler<Handler> bind_memory(HandlerMemory& m, Handler h) {
  return MemoryBoundHandler<Handler>(m, std::move(h));
}

// Bump allocation over a fixed buffer, released all at once by reset().
class RequestArena {
 public:
  static constexpr std::size_t kSize = 16 * 1024;

  void* allocate(std::size_t size, std::size_t align) {
    std::size_t start = (used_ + align - 1) / align * align;
    if (start + size <= kSize) {
      used_ = start + size;
      return buffer_.data() + start;
    }
    return ::operator new(size);
  }
  void deallocate(void* p) {
    auto* c = static_cast<unsigned char*>(p);
    if (c >= buffer_.data() && c < buffer_.data() + kSize) return;  // freed by reset()
    ::operator delete(p);
  }
  // Only when nothing allocated from the arena is still alive.
  void reset() { used_ = 0; }

 private:
  alignas(std::max_align_t) std::array<unsigned char, kSize> buffer_;
  std::size_t used_ = 0;
};

template <class T>
class ArenaAllocator {
 public:
  using value_type = T;
  using is_always_equal = std::false_type;
  explicit ArenaAllocator(RequestArena& a) noexcept : arena_(&a) {}
  template <class U>
  ArenaAllocator(const ArenaAllocator<U>& other) noexcept : arena_(other.arena_) {}
  T* allocate(std::size_t n) {
    return static_cast<T*>(arena_->allocate(sizeof(T) * n, alignof(T)));
  }
  void deallocate(T* p, std::size_t) { arena_->deallocate(p); }
  template <class U>
  bool operator==(const ArenaAllocator<U>& o) const noexcept {
    return arena_ == o.arena_;
  }
  template <class U>
  bool operator!=(const ArenaAllocator<U>& o) const noexcept {
    return arena_ != o.arena_;
  }

 private:
  template <class>
  friend class ArenaAllocator;
  RequestArena* arena_;
};

}  // namespace p2p::net
