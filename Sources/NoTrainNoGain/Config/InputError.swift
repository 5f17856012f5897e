/// A problem with something the user gave: a config key, a file, a folder, a flag. One line, naming
/// where the problem is (`bert.yaml: training.budget: must be positive (got -5m)`,
/// `runs/x/checkpoint/state.json: unreadable (…)`), so the user can fix it without a stack trace.
public struct InputError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file, folder or input the problem is in (nil when the message names it itself).
    public let path: String?
    public let problem: String

    public init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }

    /// A problem whose message already says where it is.
    public init(_ message: String) {
        path = nil
        problem = message
    }

    public var description: String { path.map { "\($0): \(problem)" } ?? problem }
}
