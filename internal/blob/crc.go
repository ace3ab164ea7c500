package blob

import "hash/crc64"

// CRCTable is the CRC-64/ECMA table OSS uses for x-oss-hash-crc64ecma
// (Go's hash/crc64 with the ECMA polynomial computes the same value the
// SDKs check).
var CRCTable = crc64.MakeTable(crc64.ECMA)

// CRCCombine returns the CRC of A||B from crc(A), crc(B) and len(B), so
// multipart and appended objects get their whole-object CRC without
// rereading their bytes (zlib's crc32_combine method, for 64 bits).
func CRCCombine(crcA, crcB uint64, lenB int64) uint64 {
	if lenB <= 0 {
		return crcA
	}
	var even, odd [64]uint64
	// odd: operator for one zero bit (reflected ECMA polynomial).
	odd[0] = 0xC96C5795D7870F42
	row := uint64(1)
	for i := 1; i < 64; i++ {
		odd[i] = row
		row <<= 1
	}
	gf2Square(even[:], odd[:]) // two zero bits
	gf2Square(odd[:], even[:]) // four zero bits
	for {
		gf2Square(even[:], odd[:])
		if lenB&1 != 0 {
			crcA = gf2Times(even[:], crcA)
		}
		lenB >>= 1
		if lenB == 0 {
			break
		}
		gf2Square(odd[:], even[:])
		if lenB&1 != 0 {
			crcA = gf2Times(odd[:], crcA)
		}
		lenB >>= 1
		if lenB == 0 {
			break
		}
	}
	return crcA ^ crcB
}

func gf2Times(mat []uint64, vec uint64) uint64 {
	var sum uint64
	for i := 0; vec != 0; i++ {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
		vec >>= 1
	}
	return sum
}

func gf2Square(square, mat []uint64) {
	for n := 0; n < 64; n++ {
		square[n] = gf2Times(mat, mat[n])
	}
}
