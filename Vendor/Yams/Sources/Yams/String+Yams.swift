//
//  String+Yams.swift
//  Yams
//
//  Created by Norio Nomura on 12/7/16.
//  Copyright (c) 2016 Yams. All rights reserved.
//
//  hecd's copy: lines found with `Character.isNewline` instead of Foundation's `getLineStart`.

extension String {
    typealias LineNumberColumnAndContents = (lineNumber: Int, column: Int, contents: String)

    /// The ranges of the lines, each with its line ending (`\n`, `\r\n`, `\r`, U+0085, U+2028, U+2029).
    private var lineRanges: [Range<Index>] {
        var ranges: [Range<Index>] = []
        var start = startIndex
        var index = startIndex
        while index < endIndex {
            let next = self.index(after: index)
            if self[index].isNewline {
                ranges.append(start..<next)
                start = next
            }
            index = next
        }
        if start < endIndex || ranges.isEmpty { ranges.append(start..<endIndex) }
        return ranges
    }

    /// line number, column and contents at offset.
    ///
    /// - parameter offset: Int
    ///
    /// - returns: lineNumber: line number start from 0,
    ///            column: utf16 column start from 0,
    ///            contents: substring of line
    func lineNumberColumnAndContents(at offset: Int) -> LineNumberColumnAndContents? {
        return index(startIndex, offsetBy: offset, limitedBy: endIndex).flatMap(lineNumberColumnAndContents)
    }

    /// line number, column and contents at Index.
    ///
    /// - parameter index: String.Index
    ///
    /// - returns: lineNumber: line number start from 0,
    ///            column: utf16 column start from 0,
    ///            contents: substring of line
    func lineNumberColumnAndContents(at index: Index) -> LineNumberColumnAndContents {
        let ranges = lineRanges
        let number = ranges.firstIndex { $0.contains(index) } ?? ranges.count - 1
        let line = ranges[number]
        return (number, utf16.distance(from: line.lowerBound, to: index), String(self[line]))
    }

    /// substring indicated by line number.
    ///
    /// - parameter line: line number starts from 0.
    ///
    /// - returns: substring of line contains line ending characters
    func substring(at line: Int) -> String {
        let ranges = lineRanges
        return String(self[ranges[Swift.max(0, Swift.min(line, ranges.count - 1))]])
    }

    /// String appending newline if is not ending with newline.
    var endingWithNewLine: String {
        let isEndsWithNewLines = last?.isNewline ?? false
        if isEndsWithNewLines {
            return self
        } else {
            return self + "\n"
        }
    }
}
