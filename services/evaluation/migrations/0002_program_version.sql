-- V1: the version of the program definition each application applied under (NULL: passed before versions).
ALTER TABLE candidates ADD COLUMN program_version int;
