-- V1: the version of the program definition each application applied under (NULL: received before versions).
ALTER TABLE screenings ADD COLUMN program_version int;
