/*
 * types.c — names and physical sizes of the SQL types (see types.h).
 */
#include "exec/types.h"

const char *sql_type_name(SqlType t)
{
    switch (t) {
    case TYPE_NULL:      return "NULL";
    case TYPE_BOOLEAN:   return "BOOLEAN";
    case TYPE_BIGINT:    return "BIGINT";
    case TYPE_DOUBLE:    return "DOUBLE";
    case TYPE_VARCHAR:   return "VARCHAR";
    case TYPE_TIMESTAMP: return "TIMESTAMP";
    case TYPE_INTERVAL:  return "INTERVAL";
    }
    return "UNKNOWN";
}

size_t sql_type_size(SqlType t)
{
    switch (t) {
    case TYPE_NULL:      return 0;
    case TYPE_BOOLEAN:   return sizeof(uint8_t);
    case TYPE_BIGINT:    return sizeof(int64_t);
    case TYPE_DOUBLE:    return sizeof(double);
    case TYPE_VARCHAR:   return sizeof(Str);
    case TYPE_TIMESTAMP: return sizeof(int64_t);
    case TYPE_INTERVAL:  return sizeof(int64_t);
    }
    return 0;
}
