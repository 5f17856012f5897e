public enum NoTrainNoGain { public static let version = "0.1.0" }
