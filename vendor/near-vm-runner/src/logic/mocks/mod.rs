pub mod mock_external;
