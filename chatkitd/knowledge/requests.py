"""Request bodies of the vector store endpoints, as OpenAI's reference defines them.

Parsed with ``chatkitd.rest.validation.parse``, so any bad field is a 400
naming its dotted path.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

Key = Annotated[str, StringConstraints(max_length=64)]
Metadata = dict[Key, Annotated[str, StringConstraints(max_length=512)]]
AttributeValue = Annotated[str, StringConstraints(max_length=512)] | bool | float
Attributes = dict[Key, AttributeValue]

AUTO_CHUNK_TOKENS = 800
AUTO_OVERLAP_TOKENS = 400


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _at_most_16(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None and len(value) > 16:
        raise ValueError("at most 16 key-value pairs")
    return value


class StaticChunking(_Body):
    max_chunk_size_tokens: Annotated[int, Field(ge=100, le=4096)]
    chunk_overlap_tokens: Annotated[int, Field(ge=0)]

    @model_validator(mode="after")
    def _overlap_at_most_half(self) -> StaticChunking:
        if self.chunk_overlap_tokens > self.max_chunk_size_tokens // 2:
            raise ValueError("chunk_overlap_tokens must not exceed half of max_chunk_size_tokens")
        return self


class AutoStrategy(_Body):
    type: Literal["auto"]


class StaticStrategy(_Body):
    type: Literal["static"]
    static: StaticChunking


ChunkingStrategy = Annotated[AutoStrategy | StaticStrategy, Field(discriminator="type")]


def chunking_of(strategy: AutoStrategy | StaticStrategy | None) -> StaticChunking:
    """What a strategy means in tokens: ``auto`` is OpenAI's documented 800 with 400 overlap."""
    if isinstance(strategy, StaticStrategy):
        return strategy.static
    return StaticChunking(max_chunk_size_tokens=AUTO_CHUNK_TOKENS, chunk_overlap_tokens=AUTO_OVERLAP_TOKENS)


class ExpiresAfter(_Body):
    anchor: Literal["last_active_at"]
    days: Annotated[int, Field(ge=1, le=365)]


class VectorStoreCreate(_Body):
    name: Annotated[str, StringConstraints(max_length=256)] | None = None
    description: Annotated[str, StringConstraints(max_length=512)] | None = None
    file_ids: Annotated[list[Annotated[str, StringConstraints(max_length=64)]], Field(max_length=500)] = (
        Field(default_factory=list)
    )
    expires_after: ExpiresAfter | None = None
    chunking_strategy: ChunkingStrategy | None = None
    metadata: Metadata | None = None

    _metadata = field_validator("metadata")(_at_most_16)


class VectorStoreUpdate(_Body):
    name: Annotated[str, StringConstraints(max_length=256)] | None = None
    expires_after: ExpiresAfter | None = None
    metadata: Metadata | None = None

    _metadata = field_validator("metadata")(_at_most_16)


class FileAttach(_Body):
    file_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    attributes: Attributes | None = None
    chunking_strategy: ChunkingStrategy | None = None

    _attributes = field_validator("attributes")(_at_most_16)


class FileAttributesUpdate(_Body):
    attributes: Attributes | None

    _attributes = field_validator("attributes")(_at_most_16)


class BatchCreate(_Body):
    file_ids: (
        Annotated[
            list[Annotated[str, StringConstraints(min_length=1, max_length=64)]], Field(max_length=2000)
        ]
        | None
    ) = None
    files: Annotated[list[FileAttach], Field(max_length=2000)] | None = None
    attributes: Attributes | None = None
    chunking_strategy: ChunkingStrategy | None = None

    _attributes = field_validator("attributes")(_at_most_16)

    @model_validator(mode="after")
    def _one_list(self) -> BatchCreate:
        if (self.file_ids is None) == (self.files is None):
            raise ValueError("give exactly one of file_ids or files")
        if not (self.file_ids or self.files):
            raise ValueError("a batch needs at least one file")
        return self

    def entries(self) -> list[FileAttach]:
        if self.files is not None:
            return self.files
        return [
            FileAttach(file_id=file_id, attributes=self.attributes, chunking_strategy=self.chunking_strategy)
            for file_id in self.file_ids or []
        ]


class ComparisonFilter(_Body):
    type: Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"] = "eq"
    key: str
    value: str | bool | float | list[str | float]


class CompoundFilter(_Body):
    type: Literal["and", "or"]
    filters: list[ComparisonFilter | CompoundFilter]


Filter = ComparisonFilter | CompoundFilter


class RankingOptions(_Body):
    ranker: Literal["none", "auto", "default-2024-11-15"] = "auto"
    score_threshold: Annotated[float, Field(ge=0, le=1)] = 0.0


class SearchRequest(_Body):
    query: (
        str
        | Annotated[list[Annotated[str, StringConstraints(min_length=1)]], Field(min_length=1, max_length=10)]
    )
    rewrite_query: bool = False
    max_num_results: Annotated[int, Field(ge=1, le=50)] = 10
    filters: Filter | None = None
    ranking_options: RankingOptions | None = None

    @property
    def queries(self) -> list[str]:
        return [self.query] if isinstance(self.query, str) else list(self.query)
