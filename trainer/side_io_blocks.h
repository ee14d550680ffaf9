// The blocks that formats 26 and later append to the chunk side (docs/format.md §7.22 on):
// a writer and a reader each, in the order side_io.cpp calls them. A reader that returns
// bool says whether the values it read agree with the rest of the side (its caller names
// what disagrees); counts above their bound fail the reader itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "trainer/byte_io.h"
#include "trainer/chunk_tokens.h"

namespace dgc::trainer::side_blocks {

void write_format26(ByteWriter& w, const ChunkSide& s);
bool read_format26(ByteReader& r, ChunkSide& s);
void write_format27(ByteWriter& w, const ChunkSide& s);
void read_format27(ByteReader& r, ChunkSide& s);
void write_format28(ByteWriter& w, const ChunkSide& s);
bool read_format28(ByteReader& r, ChunkSide& s);
void write_roles(ByteWriter& w, const std::vector<uint8_t>& roles, size_t count);
void read_roles(ByteReader& r, std::vector<uint8_t>& roles, size_t count);
void write_format35(ByteWriter& w, const ChunkSide& s);
bool read_format35(ByteReader& r, ChunkSide& s);
void write_format36(ByteWriter& w, const ChunkSide& s);
bool read_format36(ByteReader& r, ChunkSide& s);
void write_format37(ByteWriter& w, const ChunkSide& s);
bool read_format37(ByteReader& r, ChunkSide& s);
void write_icmp_hosts(ByteWriter& w, const ChunkSide& s, const std::vector<uint8_t>& hosts);
bool read_icmp_hosts(ByteReader& r, const ChunkSide& s, std::vector<uint8_t>& hosts);
void write_format40(ByteWriter& w, const TcpKeepAlives& k);
void read_format40(ByteReader& r, ChunkSide& s);
void write_format41(ByteWriter& w, const ChunkSide& s);
bool read_format41(ByteReader& r, ChunkSide& s);
void write_format43(ByteWriter& w, const ChunkSide& s);
bool read_format43(ByteReader& r, ChunkSide& s);
void write_format44(ByteWriter& w, const ChunkSide& s);
void read_format44(ByteReader& r, ChunkSide& s);
void write_format47(ByteWriter& w, const FinResends& f);
bool read_format47(ByteReader& r, ChunkSide& s);
void write_format55(ByteWriter& w, const ChunkSide& s);
bool read_format55(ByteReader& r, ChunkSide& s);

}  // namespace dgc::trainer::side_blocks
