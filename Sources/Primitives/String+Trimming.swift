extension StringProtocol {
    /// The text without leading and trailing whitespace; line breaks count as whitespace unless `newlines`
    /// is false. (FoundationEssentials has no `trimmingCharacters(in:)`.)
    public func trimmingWhitespace(newlines: Bool = true) -> String {
        trimming { $0.isWhitespace && (newlines || !$0.isNewline) }
    }

    /// The text without the leading and trailing characters for which `isTrimmed` holds.
    public func trimming(where isTrimmed: (Character) -> Bool) -> String {
        guard let first = firstIndex(where: { !isTrimmed($0) }), let last = lastIndex(where: { !isTrimmed($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
