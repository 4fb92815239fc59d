/// vigil's exit codes. Stable: scripts and the systemd unit depend on them (tested).
public enum ExitStatus: Int32, Sendable, CaseIterable {
    /// Success; for checks (`selftest`, `board validate`), everything passed.
    case success = 0
    /// The command ran but the thing it checked failed, or the operation failed at run time.
    case failure = 1
    /// Bad input: unknown subcommand or flag, an invalid profile, a bad argument value.
    case badInput = 2
    /// No agent is running (the control socket is absent or refuses connections).
    case agentNotRunning = 3
    /// Permission denied on a device or the control socket (see the udev group in the message).
    case permissionDenied = 4
    /// The operation was refused by the interlock (reset while a condition is present, `gpio set` on
    /// an owned line, a proof test without confirmation).
    case refused = 5
}

/// An error that ends a command with a message and a specific exit status.
public struct CLIError: Error, Sendable, CustomStringConvertible {
    public var status: ExitStatus
    public var message: String
    /// Printed already (e.g. a diagnostics list); only the status remains to return.
    public var alreadyReported: Bool

    public init(_ status: ExitStatus, _ message: String, alreadyReported: Bool = false) {
        self.status = status
        self.message = message
        self.alreadyReported = alreadyReported
    }

    public var description: String { message }
}
