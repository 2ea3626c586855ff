-- V1: the version of the program definition each application applied under (NULL: filed before versions).
ALTER TABLE applications ADD COLUMN program_version int;
