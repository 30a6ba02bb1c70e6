/// Go 1.19's `sort.Sort` (pattern-defeating quicksort, sort/zsortinterface.go), step by step: it is not stable,
/// so elements that compare equal (`sortByLength` on strings of one length) end up where Go puts them, which
/// only the same algorithm reproduces.
enum GoSort {
    /// Sorts `data` in place as `sort.Sort` would with `less` as `Less`.
    static func sort<Element>(_ data: inout [Element], by less: @escaping (Element, Element) -> Bool) {
        let n = data.count
        guard n > 1 else { return }
        var sorter = Sorter(data: data, less: less)
        sorter.pdqsort(0, n, limit: Int.bitWidth - n.leadingZeroBitCount)
        data = sorter.data
    }

    private enum Hint { case unknown, increasing, decreasing }

    private struct Sorter<Element> {
        var data: [Element]
        let lessThan: (Element, Element) -> Bool

        init(data: [Element], less: @escaping (Element, Element) -> Bool) {
            self.data = data
            self.lessThan = less
        }

        func less(_ i: Int, _ j: Int) -> Bool { lessThan(data[i], data[j]) }
        mutating func swap(_ i: Int, _ j: Int) { data.swapAt(i, j) }

        mutating func insertionSort(_ a: Int, _ b: Int) {
            var i = a + 1
            while i < b {
                var j = i
                while j > a, less(j, j - 1) {
                    swap(j, j - 1)
                    j -= 1
                }
                i += 1
            }
        }

        mutating func siftDown(_ lo: Int, _ hi: Int, _ first: Int) {
            var root = lo
            while true {
                var child = 2 * root + 1
                if child >= hi { break }
                if child + 1 < hi, less(first + child, first + child + 1) { child += 1 }
                if !less(first + root, first + child) { return }
                swap(first + root, first + child)
                root = child
            }
        }

        mutating func heapSort(_ a: Int, _ b: Int) {
            let first = a
            let hi = b - a
            var i = (hi - 1) / 2
            while i >= 0 {
                siftDown(i, hi, first)
                i -= 1
            }
            i = hi - 1
            while i >= 0 {
                swap(first, first + i)
                siftDown(0, i, first)
                i -= 1
            }
        }

        mutating func pdqsort(_ start: Int, _ end: Int, limit startLimit: Int) {
            let maxInsertion = 12
            var a = start
            var b = end
            var limit = startLimit
            var wasBalanced = true
            var wasPartitioned = true
            while true {
                let length = b - a
                if length <= maxInsertion {
                    insertionSort(a, b)
                    return
                }
                if limit == 0 {
                    heapSort(a, b)
                    return
                }
                if !wasBalanced {
                    breakPatterns(a, b)
                    limit -= 1
                }
                var (pivot, hint) = choosePivot(a, b)
                if hint == .decreasing {
                    reverseRange(a, b)
                    pivot = (b - 1) - (pivot - a)
                    hint = .increasing
                }
                if wasBalanced, wasPartitioned, hint == .increasing {
                    if partialInsertionSort(a, b) { return }
                }
                if a > 0, !less(a - 1, pivot) {
                    a = partitionEqual(a, b, pivot)
                    continue
                }
                let (mid, alreadyPartitioned) = partition(a, b, pivot)
                wasPartitioned = alreadyPartitioned
                let leftLength = mid - a
                let rightLength = b - mid
                let balanceThreshold = length / 8
                if leftLength < rightLength {
                    wasBalanced = leftLength >= balanceThreshold
                    pdqsort(a, mid, limit: limit)
                    a = mid + 1
                } else {
                    wasBalanced = rightLength >= balanceThreshold
                    pdqsort(mid + 1, b, limit: limit)
                    b = mid
                }
            }
        }

        mutating func partition(_ a: Int, _ b: Int, _ pivot: Int) -> (Int, Bool) {
            swap(a, pivot)
            var i = a + 1
            var j = b - 1
            while i <= j, less(i, a) { i += 1 }
            while i <= j, !less(j, a) { j -= 1 }
            if i > j {
                swap(j, a)
                return (j, true)
            }
            swap(i, j)
            i += 1
            j -= 1
            while true {
                while i <= j, less(i, a) { i += 1 }
                while i <= j, !less(j, a) { j -= 1 }
                if i > j { break }
                swap(i, j)
                i += 1
                j -= 1
            }
            swap(j, a)
            return (j, false)
        }

        mutating func partitionEqual(_ a: Int, _ b: Int, _ pivot: Int) -> Int {
            swap(a, pivot)
            var i = a + 1
            var j = b - 1
            while true {
                while i <= j, !less(a, i) { i += 1 }
                while i <= j, less(a, j) { j -= 1 }
                if i > j { break }
                swap(i, j)
                i += 1
                j -= 1
            }
            return i
        }

        mutating func partialInsertionSort(_ a: Int, _ b: Int) -> Bool {
            let maxSteps = 5
            let shortestShifting = 50
            var i = a + 1
            for _ in 0..<maxSteps {
                while i < b, !less(i, i - 1) { i += 1 }
                if i == b { return true }
                if b - a < shortestShifting { return false }
                swap(i, i - 1)
                if i - a >= 2 {
                    var j = i - 1
                    while j >= 1 {
                        if !less(j, j - 1) { break }
                        swap(j, j - 1)
                        j -= 1
                    }
                }
                if b - i >= 2 {
                    var j = i + 1
                    while j < b {
                        if !less(j, j - 1) { break }
                        swap(j, j - 1)
                        j += 1
                    }
                }
            }
            return false
        }

        mutating func breakPatterns(_ a: Int, _ b: Int) {
            let length = b - a
            guard length >= 8 else { return }
            var random = UInt64(length)
            let modulus = UInt(1) << UInt(Int.bitWidth - length.leadingZeroBitCount)
            var index = a + (length / 4) * 2 - 1
            while index <= a + (length / 4) * 2 + 1 {
                random ^= random << 13
                random ^= random >> 17
                random ^= random << 5
                var other = Int(UInt(truncatingIfNeeded: random) & (modulus - 1))
                if other >= length { other -= length }
                swap(index, a + other)
                index += 1
            }
        }

        func choosePivot(_ a: Int, _ b: Int) -> (Int, Hint) {
            let shortestNinther = 50
            let maxSwaps = 4 * 3
            let l = b - a
            var swaps = 0
            var i = a + l / 4 * 1
            var j = a + l / 4 * 2
            var k = a + l / 4 * 3
            if l >= 8 {
                if l >= shortestNinther {
                    i = medianAdjacent(i, &swaps)
                    j = medianAdjacent(j, &swaps)
                    k = medianAdjacent(k, &swaps)
                }
                j = median(i, j, k, &swaps)
            }
            switch swaps {
            case 0: return (j, .increasing)
            case maxSwaps: return (j, .decreasing)
            default: return (j, .unknown)
            }
        }

        func order2(_ a: Int, _ b: Int, _ swaps: inout Int) -> (Int, Int) {
            if less(b, a) {
                swaps += 1
                return (b, a)
            }
            return (a, b)
        }

        func median(_ a: Int, _ b: Int, _ c: Int, _ swaps: inout Int) -> Int {
            let (a1, b1) = order2(a, b, &swaps)
            let (b2, _) = order2(b1, c, &swaps)
            let (_, b3) = order2(a1, b2, &swaps)
            return b3
        }

        func medianAdjacent(_ a: Int, _ swaps: inout Int) -> Int {
            median(a - 1, a, a + 1, &swaps)
        }

        mutating func reverseRange(_ a: Int, _ b: Int) {
            var i = a
            var j = b - 1
            while i < j {
                swap(i, j)
                i += 1
                j -= 1
            }
        }
    }
}
