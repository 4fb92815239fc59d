import Glibc

/// A body run on a new pthread (not a Swift concurrency task: the loop needs its own kernel
/// thread to set its scheduling policy and affinity).
private final class ThreadEntry {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

private func threadTrampoline(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let entry = Unmanaged<ThreadEntry>.fromOpaque(raw!).takeRetainedValue()
    entry.body()
    return nil
}

/// Starts `body` on a new joinable pthread; returns the thread or the `pthread_create` error.
public func startThread(_ body: @escaping () -> Void) -> Result<pthread_t, HALThreadError> {
    let context = Unmanaged.passRetained(ThreadEntry(body)).toOpaque()
    var handle = pthread_t()
    let status = pthread_create(&handle, nil, threadTrampoline, context)
    guard status == 0 else {
        Unmanaged<ThreadEntry>.fromOpaque(context).release()
        return .failure(HALThreadError(code: status))
    }
    return .success(handle)
}

/// `pthread_create` failed.
public struct HALThreadError: Error, Sendable, CustomStringConvertible {
    public var code: Int32
    public init(code: Int32) { self.code = code }
    public var description: String { "cannot start a thread (error \(code))" }
}
